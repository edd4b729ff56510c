/*
 * Fuzz target for policy files: the loader (schema, regexes, locale tags,
 * inheritance) and, when a file loads, evaluation of a fixed set of
 * messages in both directions must never crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parley/arena.h"
#include "parley/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const messages[] = {
    "Where is my order #A-10293? I ALWAYS have to wait!!!",
    "我的订单总是迟到，永远没人回复？？",
    "هل عندكم ملابس سباحة؟",
    "Pouvez-vous m'aider ? Vous êtes là ?",
    "",
};

/* The loader names locales by file name, so the input becomes default.yaml. */
static const char *input_path(void)
{
    static char path[4096];

    if (path[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        char dir[4000];
        snprintf(dir, sizeof(dir), "%s/parley-fuzz-policy-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(path, sizeof(path), "%s/default.yaml", dir);
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = input_path();
    FILE *f = fopen(path, "wb");
    pl_diags diags;
    pl_policy_set *set = NULL;

    if (f == NULL)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    pl_diags_init(&diags);
    if (pl_policy_load_files(&path, 1, &diags, &set) == 0) {
        const pl_policy *p = pl_policy_resolve(set, "default");
        for (size_t i = 0; p != NULL && i < sizeof(messages) / sizeof(*messages); i++) {
            for (int dir = 0; dir < 2; dir++) {
                pl_arena arena;
                pl_policy_result *res;
                pl_policy_input in = {
                    .text = messages[i],
                    .len = strlen(messages[i]),
                    .direction = dir ? PL_POLICY_OUT : PL_POLICY_IN,
                    .prior_complaints = 2,
                    .explain = 1,
                };
                pl_arena_init(&arena, 1 << 20);
                pl_policy_evaluate(p, &in, &arena, &res);
                pl_arena_free(&arena);
            }
        }
        pl_policy_set_free(set);
    }
    pl_diags_free(&diags);
    return 0;
}
