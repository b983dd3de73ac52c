// OpenSSL 3 for Swift. Function-like macros and SSL_OP_* bits do not import, so each one the TLS module needs is
// wrapped here as a `static inline` function with a `cssl_` prefix (see PLATFORM.md). Imported by the TLS module only.
#ifndef WEB2FTP_COPENSSL_H
#define WEB2FTP_COPENSSL_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/buffer.h>

static inline long cssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline int cssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int cssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline int cssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline void cssl_ctx_set_client_session_cache(SSL_CTX *ctx) {
    // We keep the sessions ourselves (keyed by host and port: OpenSSL would resume across SNI names, PLATFORM.md);
    // CLIENT mode is what makes OpenSSL call the new-session callback, NO_INTERNAL_STORE keeps its own cache empty.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
}
static inline void cssl_ctx_set_server_session_cache(SSL_CTX *ctx) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
}
static inline void cssl_ctx_set_default_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // A write returns once the whole buffer is encrypted (our BIO never refuses a write), and the buffer may move
    // between retries because the caller hands us a fresh view each time. SSL_MODE_RELEASE_BUFFERS is switched off
    // while a transfer runs (cssl_set_release_buffers).
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}
static inline int cssl_lookup_add_dir(X509_LOOKUP *lookup, const char *directories) {
    return X509_LOOKUP_add_dir(lookup, directories, X509_FILETYPE_PEM);
}
static inline int cssl_set_app_data(SSL *ssl, void *data) { return SSL_set_app_data(ssl, data); }
static inline void *cssl_get_app_data(const SSL *ssl) { return SSL_get_app_data(ssl); }
static inline void cssl_bio_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
static inline void cssl_bio_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
/// While a transfer runs, OpenSSL keeps its record buffers (SSL_MODE_RELEASE_BUFFERS frees and allocates them again
/// around every record); between transfers it releases them.
static inline void cssl_set_release_buffers(SSL *ssl, int release) {
    if (release) {
        SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    } else {
        SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    }
}
static inline int cssl_received_shutdown(const SSL *ssl) { return (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0; }
static inline int cssl_sent_shutdown(const SSL *ssl) { return (SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN) != 0; }

/// Constants that are macros of expressions rather than plain integers.
static inline int cssl_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int cssl_tls1_3_version(void) { return TLS1_3_VERSION; }
static inline int cssl_filetype_pem(void) { return SSL_FILETYPE_PEM; }

#endif
