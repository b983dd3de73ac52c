#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include "CLinux.h"
#include <malloc.h>

int cl_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) { return accept4(fd, addr, len, flags); }

int cl_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    return CPU_COUNT(&set);
}

void cl_name_this_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

int cl_malloc_trim(void) { return malloc_trim(0); }
