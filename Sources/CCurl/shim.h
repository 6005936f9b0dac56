#ifndef SHOPBULK_CCURL_SHIM_H
#define SHOPBULK_CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic and cannot be called from Swift.
// These typed wrappers are the only way the HTTP module sets options or reads info.

#pragma clang assume_nonnull begin

typedef size_t (*sb_curl_data_fn)(char *_Nullable data, size_t size, size_t nmemb, void *_Nullable userdata);
typedef int (*sb_curl_xferinfo_fn)(void *_Nullable userdata, curl_off_t dltotal, curl_off_t dlnow,
                                   curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode sb_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_string(CURL *handle, CURLoption option, const char *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_pointer(CURL *handle, CURLoption option, void *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_data_fn(CURL *handle, CURLoption option, sb_curl_data_fn _Nullable fn) {
    return curl_easy_setopt(handle, option, fn);
}

static inline CURLcode sb_curl_setopt_xferinfo_fn(CURL *handle, sb_curl_xferinfo_fn _Nullable fn) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, fn);
}

static inline CURLcode sb_curl_getinfo_long(CURL *handle, CURLINFO info, long *out) {
    return curl_easy_getinfo(handle, info, out);
}

static inline CURLcode sb_curl_getinfo_string(CURL *handle, CURLINFO info, const char *_Nullable *_Nonnull out) {
    return curl_easy_getinfo(handle, info, out);
}

static inline CURLcode sb_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *out) {
    return curl_easy_getinfo(handle, info, out);
}

#pragma clang assume_nonnull end

#endif
