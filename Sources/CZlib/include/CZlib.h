// zlib for Swift. `inflateInit2` and `deflateInit2` are macros (they pass the library's version and the size of
// z_stream), which do not import: each is wrapped here as a `static inline` function with a `czlib_` prefix.
// Imported by the Compression module only.
#ifndef WEB2FTP_CZLIB_H
#define WEB2FTP_CZLIB_H

#include <zlib.h>

static inline int czlib_inflate_init2(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}
static inline int czlib_deflate_init2(z_stream *stream, int level, int window_bits) {
    return deflateInit2(stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
}

#endif
