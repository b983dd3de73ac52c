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
/// The number of CPUs this thread may run on (sched_getaffinity), or -1 when it cannot be had.
int cl_affinity_cpu_count(void);
/// Names the calling thread (at most 15 bytes show), for top -H and /proc/self/task/*/comm.
void cl_name_this_thread(const char *name);
/// Gives the heap's free memory back to the kernel (malloc_trim(0)); 1 when some was released.
int cl_malloc_trim(void);

#endif
