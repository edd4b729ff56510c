/*
 * Locale policies: the per-region rules that policy editors write in
 * policies/<locale>.yaml. A policy set is loaded and validated once per runtime
 * snapshot; every locale's inheritance chain is resolved and merged at load
 * time, so evaluating a message only walks flat arrays and allocates from
 * the caller's request arena.
 */
#ifndef PARLEY_POLICY_H
#define PARLEY_POLICY_H

#include "parley/watch.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parley/arena.h"
#include "parley/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pl_config;

/** A loaded, validated, immutable set of policies (one per locale). */
typedef struct pl_policy_set pl_policy_set;

/** One locale's policy with its whole inheritance chain merged in. */
typedef struct pl_policy pl_policy;

typedef enum pl_policy_direction {
    PL_POLICY_IN = 1,  /* customer text on its way to the agents */
    PL_POLICY_OUT = 2, /* a reply on its way to the customer */
    PL_POLICY_BOTH = 3
} pl_policy_direction;

typedef enum pl_policy_action_type {
    PL_POLICY_ESCALATE = 0, /* hand the conversation to a human */
    PL_POLICY_REDIRECT,     /* answer with a localized message, e.g. move to a private channel */
    PL_POLICY_TAG,          /* label the message for the backend */
    PL_POLICY_BLOCK,        /* do not forward; reply with a message */
    PL_POLICY_MASK,         /* replace the matched spans before forwarding */
    PL_POLICY_INSTRUCT      /* an extra instruction for the translator */
} pl_policy_action_type;

/** A byte range [start, end) in the UTF-8 text that was evaluated. */
typedef struct pl_policy_span {
    size_t start;
    size_t end;
} pl_policy_span;

/** One action produced by a rule that fired. Strings belong to the set. */
typedef struct pl_policy_action {
    pl_policy_action_type type;
    const char *rule_id;
    const char *priority; /* ESCALATE: low, normal, high or urgent */
    const char *reason;   /* ESCALATE */
    const char *channel;  /* REDIRECT */
    const char *message;  /* REDIRECT, BLOCK */
    const char *value;    /* TAG: the tag; INSTRUCT: the instruction; MASK: the mask */
    const pl_policy_span *spans; /* what made the rule fire (may be empty) */
    size_t nspans;
} pl_policy_action;

/** One rule that fired, with why (a readable summary, only when explaining). */
typedef struct pl_policy_hit {
    const char *rule_id;
    const char *file;
    unsigned line;
    const char *why; /* NULL unless pl_policy_input.explain was set */
    const pl_policy_span *spans;
    size_t nspans;
} pl_policy_hit;

/** A forbidden form found in a reply: fixed (replaced) or only flagged. */
typedef struct pl_policy_flag {
    const char *fix_id;
    const char *message; /* the editor's explanation; may be NULL */
    int fixed;           /* 1: replaced in the output text; 0: flagged only */
    pl_policy_span span; /* in the text as it was before this fix */
} pl_policy_flag;

/** A term the translator must keep, or translate in a fixed way. */
typedef struct pl_policy_term {
    const char *source;
    const char *target; /* NULL: keep the term as it is */
} pl_policy_term;

/**
 * What the translator is told for a locale: register, dialect, glossary
 * and instructions, as data. Strings belong to the policy set.
 */
typedef struct pl_policy_directives {
    const char *locale;             /* the policy's BCP 47 tag ("default" for the root) */
    const char *formality;          /* formal, informal or neutral */
    const char *address;            /* form of address: keigo, sie, vous, usted, ... or NULL */
    const char *honorific_self;     /* ja: teineigo or kenjougo for our own actions */
    const char *honorific_customer; /* ja: sonkeigo for the customer's actions */
    const char *speech_level;       /* ko: hasipsio (하십시오체) or haeyo (해요체) */
    const char *variety;            /* BCP 47 variety of replies, e.g. zh-Hant-TW */
    const char *dialect;            /* the dialect of replies in words */
    const char *const *instructions;
    size_t ninstructions;
    const pl_policy_term *glossary;
    size_t nglossary;
} pl_policy_directives;

/** A message to evaluate. */
typedef struct pl_policy_input {
    const char *text; /* UTF-8 */
    size_t len;
    pl_policy_direction direction; /* IN or OUT */
    /* Complaints the conversation already had (from the conversation store). */
    unsigned prior_complaints;
    int explain; /* fill pl_policy_hit.why and keep non-firing rules' reasons */
} pl_policy_input;

/** The outcome of one evaluation; everything lives in the request arena. */
typedef struct pl_policy_result {
    const pl_policy *policy;
    pl_policy_action *actions;
    size_t nactions;
    pl_policy_hit *hits;
    size_t nhits;
    pl_policy_flag *flags; /* outbound fixes and flags */
    size_t nflags;
    pl_policy_span *protected_spans; /* in `text`: must pass untouched */
    size_t nprotected;
    /* The text to forward: outbound after fixes, masks applied. */
    const char *text;
    size_t text_len;
    int blocked; /* a BLOCK action fired: do not forward */
    pl_policy_directives directives; /* with the fired rules' instructions */
} pl_policy_result;

/**
 * Loads every .yaml file directly in `dir` (subfolders are not read) as one
 * policy set. Every problem in every file is added to `diags` (errors and
 * warnings with file:line:col). Returns 0 and a new set in *out (free with
 * pl_policy_set_free()), or PL_EPOLICY when there were errors (*out NULL),
 * PL_ENOENT/PL_EIO when the folder cannot be read, PL_ENOMEM.
 */
int pl_policy_load_dir(const char *dir, pl_diags *diags, pl_policy_set **out);

/**
 * Like pl_policy_load_dir() for an explicit list of files, each named by its
 * locale (`ja-JP.yaml`, `default.yaml`). Used by `parley policy lint FILE`.
 */
int pl_policy_load_files(const char *const *paths, size_t count,
                         pl_diags *diags, pl_policy_set **out);

/**
 * Like pl_policy_load_dir() for the `policies.dir` of `cfg`, resolved
 * relative to the configuration file's folder. A missing folder gives an
 * empty set and a warning in `diags`.
 */
int pl_policy_load_configured(const struct pl_config *cfg, pl_diags *diags,
                              pl_policy_set **out);

/** Frees the set and everything it owns; NULL is ignored. */
void pl_policy_set_free(pl_policy_set *set);

/** Returns the number of policies in the set. */
size_t pl_policy_set_count(const pl_policy_set *set);

/** Returns the i-th policy (in locale order), or NULL past the end. */
const pl_policy *pl_policy_set_at(const pl_policy_set *set, size_t i);

/**
 * Returns the policy that serves `locale` (a BCP 47 tag, case-insensitive,
 * '_' or '-'): the exact policy, one that lists the tag in `aliases`, else
 * the nearest ICU fallback parent (ar-KW → ar → default). Returns NULL only
 * when the set has no default policy and nothing matched.
 */
const pl_policy *pl_policy_resolve(const pl_policy_set *set, const char *locale);

/** Returns the policy's locale tag; the set owns it. */
const char *pl_policy_locale(const pl_policy *p);

/**
 * Returns the resolved chain, most specific first (`ar-SA`, `ar`,
 * `default`), in *names (owned by the set) and its length.
 */
size_t pl_policy_chain(const pl_policy *p, const char *const **names);

/** Returns the policy's directives before any rule fired (owned by the set). */
const pl_policy_directives *pl_policy_directives_get(const pl_policy *p);

/**
 * Evaluates `in` against `p`: protected spans, outbound fixes, rules in
 * order, then masks. All memory of *out comes from `arena`. Returns 0, or
 * PL_ELIMIT/PL_ENOMEM when the arena ran out, PL_EUTF8 for invalid UTF-8,
 * PL_EICU when ICU failed, PL_EINVAL for a bad argument.
 */
int pl_policy_evaluate(const pl_policy *p, const pl_policy_input *in,
                       pl_arena *arena, pl_policy_result **out);

/** Returns "escalate", "redirect", "tag", "block", "mask" or "instruct". */
const char *pl_policy_action_name(pl_policy_action_type type);

/*
 * Formatting with ICU for the policy's locale and its `format` section
 * (calendar, numbering system, currency, date style). Each writes a
 * NUL-terminated UTF-8 string into `arena` and returns it in *out; returns 0
 * or PL_EICU/PL_ENOMEM/PL_ELIMIT/PL_ENOENT (unknown plural template).
 */

/** Formats a number ("1,234.5", "١٬٢٣٤٫٥"). */
int pl_policy_format_number(const pl_policy *p, double value, pl_arena *arena,
                            const char **out);

/** Formats an amount in `currency` (ISO 4217), or the policy's currency if NULL. */
int pl_policy_format_currency(const pl_policy *p, double amount,
                              const char *currency, pl_arena *arena,
                              const char **out);

/** Formats a date (milliseconds since the epoch, UTC) with the policy's calendar. */
int pl_policy_format_date(const pl_policy *p, double epoch_ms, pl_arena *arena,
                          const char **out);

/**
 * Fills the plural template `name` from the policy's `format.plurals` with
 * `count`: the variant for the locale's plural category of `count` (ICU
 * plural rules), "{count}" replaced by the formatted number.
 */
int pl_policy_format_plural(const pl_policy *p, const char *name, double count,
                            pl_arena *arena, const char **out);

/**
 * Runs the test cases of the file at `path` (under policies/tests/) against
 * `set`, printing "PASS locale: name" or "FAIL locale: name (file:line)" and
 * a diff (- expected, + actual) per case to `out`, and adding to *passed and
 * *failed. Problems in the case file itself go to `diags`. Returns 0, or
 * PL_EPOLICY when the file has errors, PL_ENOENT/PL_EIO when unreadable.
 */
int pl_policy_run_cases(const pl_policy_set *set, const char *path, FILE *out,
                        pl_diags *diags, unsigned *passed, unsigned *failed);

/** Counters of policy reloads since start (for the metrics module). */
typedef struct pl_policy_reload_stats {
    uint64_t reloads;  /* successful reloads */
    uint64_t failures; /* reloads rejected because of errors */
} pl_policy_reload_stats;

/** Returns the reload counters (atomic reads). */
pl_policy_reload_stats pl_policy_reload_stats_get(void);

/** Counts one reload attempt (called by the server's reload path). */
void pl_policy_reload_count(int ok);

struct uv_loop_s;

/**
 * For a reload: loads the policies configured in `cfg`, logs every error
 * and warning with its position (pl_log), counts the attempt in the reload
 * stats and returns 0 and the new set in *out, or a pl_err (*out NULL: the
 * caller keeps the running policies).
 */
int pl_policy_reload(const struct pl_config *cfg, pl_policy_set **out);

/**
 * Starts a watcher (parley/watch.h) on the policies folder of `cfg` when
 * policies.watch is on and the folder exists; *out stays NULL otherwise.
 * Logs what it does. Returns 0 or the error of pl_watch_start() (also
 * logged). Stop it with pl_watch_stop().
 */
int pl_policy_watch_configured(struct uv_loop_s *loop, const struct pl_config *cfg,
                               void (*on_change)(void *arg), void *arg,
                               pl_watch **out);

/** Writes the policies folder for `cfg` (resolved) into buf; returns buf. */
const char *pl_policy_configured_dir(const struct pl_config *cfg, char *buf,
                                     size_t size);

#ifdef __cplusplus
}
#endif

#endif
