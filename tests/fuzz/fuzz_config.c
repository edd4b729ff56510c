/*
 * Fuzz target for the configuration loader: YAML parsing, the positioned
 * tree, environment expansion and directive validation must never crash,
 * leak or hang on any input.
 */
#include <stddef.h>
#include <stdint.h>

#include "parley/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_diags diags;
    pl_config *cfg = NULL;

    pl_diags_init(&diags);
    if (pl_config_load_string("fuzz.yaml", (const char *)data, size, &diags,
                              &cfg) == 0)
        pl_config_free(cfg);
    pl_diags_free(&diags);
    return 0;
}
