/*
 * The OpenAI-compatible provider: one Chat Completions POST per attempt,
 * run by libcurl's multi interface on the worker's loop (HTTP/2 over TLS
 * when the server offers it, connections reused by the multi handle, TLS
 * verification always on). The API key comes from an environment variable
 * or a file and only ever goes into the request header.
 */
#include "translate_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pl__http_call {
    pl__provider *p;
    CURL *easy;
    char *resp;
    size_t len, cap;
    int overflow;
    int64_t retry_after_ms;
    pl__answer_cb cb;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
};

static void release_handle(pl__provider *p, CURL *e);

static char *read_key_file(const char *path, pl_error *err)
{
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n;

    if (f == NULL) {
        pl_error_set(err, PL_EIO, "cannot read the API key file '%s': %s", path,
                     strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    if (n == 0) {
        pl_error_set(err, PL_EIO, "the API key file '%s' is empty", path);
        return NULL;
    }
    return strdup(buf);
}

int pl__openai_init(pl__provider *p, pl_error *err)
{
    const pl_translate_provider_config *c = p->cfg;
    char *key = NULL;
    struct curl_slist *h = NULL;
    size_t blen = strlen(c->base_url);

    while (blen > 0 && c->base_url[blen - 1] == '/')
        blen--;
    p->url = malloc(blen + sizeof("/chat/completions"));
    if (p->url == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    memcpy(p->url, c->base_url, blen);
    strcpy(p->url + blen, "/chat/completions");

    if (c->api_key_file != NULL) {
        key = read_key_file(c->api_key_file, err);
        if (key == NULL)
            return PL_EIO;
    } else if (c->api_key_env != NULL) {
        const char *v = getenv(c->api_key_env);
        if (v != NULL && v[0] != '\0' && (key = strdup(v)) == NULL)
            return pl_error_set(err, PL_ENOMEM, "out of memory");
    }
    if (key != NULL && strpbrk(key, "\r\n") != NULL) {
        explicit_bzero(key, strlen(key));
        free(key);
        return pl_error_set(err, PL_ECONFIG,
                            "the API key of provider '%s' contains a line break",
                            c->name);
    }
    if (key != NULL) {
        int bearer = strcasecmp(c->api_key_header, "authorization") == 0;
        size_t n = strlen(c->api_key_header) + strlen(key) + 16;
        p->auth = malloc(n);
        if (p->auth != NULL)
            snprintf(p->auth, n, "%s: %s%s", bearer ? "Authorization" : c->api_key_header,
                     bearer ? "Bearer " : "", key);
        explicit_bzero(key, strlen(key));
        free(key);
        if (p->auth == NULL)
            return pl_error_set(err, PL_ENOMEM, "out of memory");
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    h = h ? curl_slist_append(h, "Accept: application/json") : NULL;
    h = h ? curl_slist_append(h, "Expect:") : NULL;
    for (size_t i = 0; h != NULL && i < c->headers.count; i++) {
        char line[1024];
        snprintf(line, sizeof(line), "%s: %s", c->headers.items[i].name,
                 c->headers.items[i].value);
        h = curl_slist_append(h, line);
    }
    if (h != NULL && p->auth != NULL)
        h = curl_slist_append(h, p->auth);
    if (h == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    p->headers = h;
    return 0;
}

void pl__openai_free(pl__provider *p)
{
    while (p->idle_count > 0)
        curl_easy_cleanup(p->idle[--p->idle_count]);
    /* The key also sits in curl's copy of the header list: wipe both. */
    for (struct curl_slist *h = p->headers; h != NULL; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(p->headers);
    if (p->auth != NULL) {
        explicit_bzero(p->auth, strlen(p->auth));
        free(p->auth);
    }
    free(p->url);
    p->headers = NULL;
    p->auth = NULL;
    p->url = NULL;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    pl__http_call *call = arg;
    size_t k = size * n;

    if (call->len + k > PL_TRANSLATE_MAX_RESPONSE) {
        call->overflow = 1;
        return 0; /* makes curl fail the transfer */
    }
    if (call->len + k + 1 > call->cap) {
        size_t cap = call->cap ? call->cap : 4096;
        char *r;
        while (cap < call->len + k + 1)
            cap *= 2;
        r = realloc(call->resp, cap);
        if (r == NULL)
            return 0;
        call->resp = r;
        call->cap = cap;
    }
    memcpy(call->resp + call->len, data, k);
    call->len += k;
    call->resp[call->len] = '\0';
    return k;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    pl__http_call *call = arg;
    size_t k = size * n;
    static const char name[] = "retry-after:";

    if (k > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        char value[128];
        size_t vlen = k - (sizeof(name) - 1);
        char *end;
        double secs;
        if (vlen >= sizeof(value))
            vlen = sizeof(value) - 1;
        memcpy(value, data + sizeof(name) - 1, vlen);
        value[vlen] = '\0';
        secs = strtod(value, &end);
        while (*end && isspace((unsigned char)*end))
            end++;
        if (end != value && *end == '\0' && secs >= 0) {
            call->retry_after_ms = (int64_t)(secs * 1000);
        } else {
            /* An HTTP date. */
            time_t t = curl_getdate(value, NULL);
            if (t > 0) {
                time_t now = time(NULL);
                call->retry_after_ms = t > now ? (int64_t)(t - now) * 1000 : 0;
            }
        }
    }
    return k;
}

static void describe_error(const pl__http_call *call, long status, char *buf,
                           size_t size)
{
    cJSON *doc = call->resp ? cJSON_Parse(call->resp) : NULL;
    cJSON *e = doc ? cJSON_GetObjectItemCaseSensitive(doc, "error") : NULL;
    cJSON *msg = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message")
                                   : (cJSON_IsString(e) ? e : NULL);

    if (cJSON_IsString(msg))
        snprintf(buf, size, "HTTP %ld: %.200s", status, msg->valuestring);
    else
        snprintf(buf, size, "HTTP %ld", status);
    cJSON_Delete(doc);
}

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    pl__http_call *call = arg;
    pl__answer ans = {.retry_after_ms = call->retry_after_ms};
    cJSON *doc = NULL;
    char msg[512] = "";
    long status = 0;

    if (result != CURLE_OK) {
        ans.transport = result == CURLE_OPERATION_TIMEDOUT ? PL_ETIMEDOUT : PL_ECURL;
        snprintf(msg, sizeof(msg), "%s",
                 call->overflow ? "the answer is larger than the limit"
                 : call->errbuf[0] ? call->errbuf
                                   : curl_easy_strerror(result));
        ans.error = msg;
        goto deliver;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    ans.status = status;
    if (status != 200) {
        describe_error(call, status, msg, sizeof(msg));
        ans.error = msg;
        ans.format_unsupported =
            status == 400 && call->resp != NULL &&
            (strstr(call->resp, "response_format") != NULL ||
             strstr(call->resp, "json_schema") != NULL);
        goto deliver;
    }
    doc = call->resp ? cJSON_Parse(call->resp) : NULL;
    {
        cJSON *choices = doc ? cJSON_GetObjectItemCaseSensitive(doc, "choices") : NULL;
        cJSON *c0 = cJSON_GetArrayItem(choices, 0);
        cJSON *m = c0 ? cJSON_GetObjectItemCaseSensitive(c0, "message") : NULL;
        cJSON *content = m ? cJSON_GetObjectItemCaseSensitive(m, "content") : NULL;
        cJSON *refusal = m ? cJSON_GetObjectItemCaseSensitive(m, "refusal") : NULL;
        cJSON *finish = c0 ? cJSON_GetObjectItemCaseSensitive(c0, "finish_reason") : NULL;
        cJSON *usage = doc ? cJSON_GetObjectItemCaseSensitive(doc, "usage") : NULL;
        cJSON *pt = usage ? cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens") : NULL;
        cJSON *ct = usage ? cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens") : NULL;

        if (cJSON_IsNumber(pt) && pt->valuedouble > 0)
            ans.prompt_tokens = (uint64_t)pt->valuedouble;
        if (cJSON_IsNumber(ct) && ct->valuedouble > 0)
            ans.completion_tokens = (uint64_t)ct->valuedouble;
        if (doc == NULL) {
            ans.error = "the server's answer is not JSON";
        } else if (cJSON_IsString(refusal)) {
            snprintf(msg, sizeof(msg), "the model refused: %.200s",
                     refusal->valuestring);
            ans.error = msg;
        } else if (!cJSON_IsString(content)) {
            ans.error = "the server's answer has no choices[0].message.content";
        } else {
            ans.content = content->valuestring;
            ans.truncated = cJSON_IsString(finish) &&
                            strcmp(finish->valuestring, "length") == 0;
        }
    }

deliver:
    release_handle(call->p, easy);
    call->easy = NULL;
    call->cb(&ans, call->arg);
    cJSON_Delete(doc);
    free(call->resp);
    free(call);
}

/*
 * A handle with the provider's fixed options. Finished handles are kept
 * (up to PL__OPENAI_IDLE_HANDLES per provider) and reused: creating and
 * configuring one costs about as much as parsing the answer.
 */
static CURL *acquire_handle(pl__provider *p)
{
    CURL *e;

    if (p->idle_count > 0)
        return p->idle[--p->idle_count];
    e = curl_easy_init();
    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "parley/" PARLEY_VERSION);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)p->cfg->connect_timeout);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    return e;
}

/* Keeps a handle that is no longer in the multi handle for the next call. */
static void release_handle(pl__provider *p, CURL *e)
{
    if (p->idle_count < PL__OPENAI_IDLE_HANDLES) {
        /* No pointer into a freed call may survive in the handle. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
        p->idle[p->idle_count++] = e;
        return;
    }
    curl_easy_cleanup(e);
}

int pl__openai_start(pl__provider *p, const char *body, int64_t timeout_ms,
                     pl__answer_cb cb, void *arg, pl__http_call **out)
{
    pl__http_call *call = calloc(1, sizeof(*call));
    CURL *e;
    int rc;

    *out = NULL;
    if (call == NULL)
        return PL_ENOMEM;
    e = acquire_handle(p);
    if (e == NULL) {
        free(call);
        return PL_ECURL;
    }
    call->p = p;
    call->easy = e;
    call->cb = cb;
    call->arg = arg;
    call->retry_after_ms = -1;
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
    rc = pl_curl_loop_add(p->curl, e, on_done, call);
    if (rc != 0) {
        release_handle(p, e);
        free(call);
        return rc;
    }
    *out = call;
    return 0;
}

void pl__openai_cancel(pl__http_call *call)
{
    if (call == NULL)
        return;
    if (call->easy != NULL) {
        pl_curl_loop_cancel(call->p->curl, call->easy);
        /* A transfer stopped halfway leaves state behind: not reused. */
        curl_easy_cleanup(call->easy);
    }
    free(call->resp);
    free(call);
}
