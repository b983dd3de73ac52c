// Counts a process's heap allocations, for tests that hold the byte path to "no allocation per chunk"
// (PassthroughAllocationTests). Loaded with LD_PRELOAD: glibc 2.36 has no malloc hooks, so the allocation functions
// are interposed and passed on to glibc's own (__libc_*, which need no dlsym and so cannot recurse). Each call is
// counted by who called: OpenSSL (libcrypto, libssl: the caller's return address lies in one of them) or anything else
// (the Swift runtime and standard library, our code, libc). At exit the counts are appended to the file named by
// ALLOC_COUNTER_FILE as "<pid> <other> <openssl>\n".
// Build: clang -shared -fPIC -O2 -o alloc-counter.so alloc-counter.c
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static unsigned long other, openssl;

/// Where libcrypto and libssl are mapped, found once at load (they are mapped before any initialiser runs).
static struct { uintptr_t start, end; } ranges[8];
static int rangeCount;

static int findOpenSSL(struct dl_phdr_info *info, size_t size, void *unused) {
    (void)size;
    (void)unused;
    if (info->dlpi_name == NULL || (strstr(info->dlpi_name, "libcrypto.so") == NULL &&
                                    strstr(info->dlpi_name, "libssl.so") == NULL)) {
        return 0;
    }
    for (int i = 0; i < info->dlpi_phnum && rangeCount < 8; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || (segment->p_flags & PF_X) == 0) continue;
        uintptr_t start = info->dlpi_addr + segment->p_vaddr;
        ranges[rangeCount].start = start;
        ranges[rangeCount].end = start + segment->p_memsz;
        rangeCount++;
    }
    return 0;
}

__attribute__((constructor)) static void start(void) { dl_iterate_phdr(findOpenSSL, NULL); }

static inline void counted(void *caller) {
    uintptr_t address = (uintptr_t)caller;
    for (int i = 0; i < rangeCount; i++) {
        if (address >= ranges[i].start && address < ranges[i].end) {
            __atomic_fetch_add(&openssl, 1, __ATOMIC_RELAXED);
            return;
        }
    }
    __atomic_fetch_add(&other, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t size) {
    counted(__builtin_return_address(0));
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    counted(__builtin_return_address(0));
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    counted(__builtin_return_address(0));
    return __libc_realloc(pointer, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    counted(__builtin_return_address(0));
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    counted(__builtin_return_address(0));
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    counted(__builtin_return_address(0));
    return __libc_memalign(alignment, size);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("ALLOC_COUNTER_FILE");
    if (path == NULL) return;
    char line[64];
    int length = snprintf(line, sizeof line, "%d %lu %lu\n", (int)getpid(), __atomic_load_n(&other, __ATOMIC_RELAXED),
                          __atomic_load_n(&openssl, __ATOMIC_RELAXED));
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    ssize_t written = write(fd, line, (size_t)length);
    (void)written;
    close(fd);
}
