/*
 * Language and dialect identification for short chat messages: script
 * detection, then a character n-gram model (locales/langid.bin), then
 * variety markers (locales/varieties/), with priors from hints.
 */
#ifndef PARLEY_DETECT_H
#define PARLEY_DETECT_H

#include <stddef.h>

#include "parley/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Alternatives reported besides the best language. */
#define PL_DETECT_MAX_ALT 3

/*
 * A loaded detector: the model (read once) and the variety markers. Immutable
 * once opened, so any number of threads may use one detector at a time.
 */
typedef struct pl_detector pl_detector;

/**
 * Opens the detector from `locales_dir` (the folder holding langid.bin and
 * varieties/); NULL means pl_detect_default_dir(). Returns 0 and stores the
 * detector in `*out` (free it with pl_detect_close()), or PL_ENOENT,
 * PL_EIO, PL_ESYNTAX (corrupt model or marker file, with file:line in
 * `err`), PL_ENOMEM.
 */
int pl_detect_open(const char *locales_dir, pl_detector **out, pl_error *err);

/** Frees `d` and its model (NULL is allowed). */
void pl_detect_close(pl_detector *d);

/**
 * Returns $PARLEY_LOCALES_DIR when set and non-empty, else the locales
 * directory chosen at build time. The string is static; do not free it.
 */
const char *pl_detect_default_dir(void);

typedef enum pl_detect_hint_kind {
    /* An HTTP Accept-Language value: "es-MX,es;q=0.9,en;q=0.5". */
    PL_HINT_ACCEPT_LANGUAGE = 0,
    /* The storefront's region, ISO 3166 ("MX") or a locale ("es-MX"). */
    PL_HINT_REGION,
    /* The language (or variety) detected earlier in this conversation. */
    PL_HINT_CONVERSATION,
    /* A locale the caller believes likely, without more context. */
    PL_HINT_LOCALE,
    /*
     * Not a prior but a restriction: the languages the answer may be, as
     * codes or locales separated by commas or spaces ("en,es,pt-BR"). Set
     * by an operator who serves only these; with several such hints, any
     * of their languages. A text in none of them gets "und". An unknown
     * code is an error (PL_EINVAL).
     */
    PL_HINT_ONLY
} pl_detect_hint_kind;

typedef struct pl_detect_hint {
    pl_detect_hint_kind kind;
    const char *value;
} pl_detect_hint;

typedef struct pl_detect_alt {
    char language[8];
    double confidence;
} pl_detect_alt;

typedef struct pl_detect_result {
    char language[8];   /* ISO 639-1 where one exists, else 639-3; "und" */
    char variety[16];   /* BCP 47 ("es-419", "yue", "arz"); "" when no evidence */
    char script[5];     /* ISO 15924 of the text's main script; "Zyyy" if none */
    double confidence;  /* posterior of `language`, in [0, 1] */
    double variety_confidence; /* 0 when `variety` is "" */
    int variety_from_hint;     /* the variety comes from a hint, not the text */
    size_t letters;     /* letters the decision rests on */
    size_t nalt;
    pl_detect_alt alt[PL_DETECT_MAX_ALT];
} pl_detect_result;

/**
 * Identifies the language and variety of the UTF-8 `text`. `hints` (may be
 * NULL when `nhints` is 0) shift the prior; clear text still wins over them.
 * Returns 0 and fills `*out` (language "und" with confidence 0 when the
 * text has no letters, or none of a PL_HINT_ONLY list's languages can be
 * written in its script), or PL_EUTF8 (offset in `err`), PL_ELIMIT,
 * PL_EINVAL (also for an unknown language in a PL_HINT_ONLY list).
 * Allocates nothing that the caller frees.
 */
int pl_detect_text(const pl_detector *d, const char *text, size_t len,
                   const pl_detect_hint *hints, size_t nhints,
                   pl_detect_result *out, pl_error *err);

/*
 * A list of allowed languages read once, for a caller that restricts every
 * message to the same languages (an operator's configuration, as ELD's
 * language subset): a PL_HINT_ONLY hint is read again on every call, a set
 * costs nothing per message. Immutable, so threads may share one.
 */
typedef struct pl_detect_langset pl_detect_langset;

/**
 * Reads `list` (as the value of a PL_HINT_ONLY hint: "en,es,pt-BR") for the
 * detector `d`; the set is only valid with `d` and must be freed before it.
 * Returns 0 and stores the set in `*out` (free it with
 * pl_detect_langset_free()), or PL_EINVAL (unknown code, empty list),
 * PL_ENOMEM.
 */
int pl_detect_langset_new(const pl_detector *d, const char *list,
                          pl_detect_langset **out, pl_error *err);

/** Frees `s` (NULL is allowed). */
void pl_detect_langset_free(pl_detect_langset *s);

/**
 * pl_detect_text() with the answer restricted to the languages of `only`
 * (NULL: not restricted), as if its list were a PL_HINT_ONLY hint: with
 * PL_HINT_ONLY hints as well, any of their languages or the set's. The
 * same errors.
 */
int pl_detect_text_in(const pl_detector *d, const pl_detect_langset *only,
                      const char *text, size_t len, const pl_detect_hint *hints,
                      size_t nhints, pl_detect_result *out, pl_error *err);

/** Number of languages in the model. */
size_t pl_detect_language_count(const pl_detector *d);

/** The code of language `i` (< pl_detect_language_count()), or NULL. */
const char *pl_detect_language_code(const pl_detector *d, size_t i);

/** Size in bytes of the model file (langid.bin). */
size_t pl_detect_model_size(const pl_detector *d);

#ifdef __cplusplus
}
#endif

#endif
