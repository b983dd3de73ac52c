#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include "CLinux.h"

int cl_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) { return accept4(fd, addr, len, flags); }
int cl_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
long cl_splice(int fd_in, int fd_out, unsigned long len, unsigned int flags) {
    return (long)splice(fd_in, NULL, fd_out, NULL, len, flags);
}
int cl_set_pipe_size(int fd, int size) { return fcntl(fd, F_SETPIPE_SZ, size); }
int cl_splice_f_move(void) { return SPLICE_F_MOVE; }
int cl_splice_f_nonblock(void) { return SPLICE_F_NONBLOCK; }
int cl_splice_f_more(void) { return SPLICE_F_MORE; }
int cl_errno(void) { return errno; }
