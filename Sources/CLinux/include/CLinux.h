// Linux interfaces that `import Glibc` does not expose. No _GNU_SOURCE here: defining it in a header that Swift
// imports breaks the build (fd_set layout mismatch with the prebuilt Glibc module, see PLATFORM.md). The calls that
// need it are wrapped in CLinux.c, which defines it for itself.
#ifndef WEB2FTP_CLINUX_H
#define WEB2FTP_CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <pthread.h>
#include <time.h>

int cl_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int cl_pipe2(int fds[2], int flags);
long cl_splice(int fd_in, int fd_out, unsigned long len, unsigned int flags);
int cl_set_pipe_size(int fd, int size);

/// Flags that need _GNU_SOURCE to be visible, handed over as values.
int cl_splice_f_move(void);
int cl_splice_f_nonblock(void);
int cl_splice_f_more(void);

/// `errno` as a function, for the few places where Swift's imported `errno` is awkward.
int cl_errno(void);

#endif
