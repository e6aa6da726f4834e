/* normbase/plugin.h — the Normbase plugin ABI (C, stable, versioned).
 *
 * A plugin is a shared library that normbase-worker loads with dlopen() and
 * runs out of the core's process. It exports ONE symbol:
 *
 *     const nb_plugin* normbase_plugin_entry(uint32_t host_abi_version);
 *
 * The worker calls it once after loading. The plugin returns a pointer to a
 * static, immutable descriptor whose first field is the ABI version the plugin
 * was built against (NB_PLUGIN_ABI_VERSION from the header it compiled with).
 * The worker refuses, with a clear message, any plugin whose abi_version
 * differs from its own: fields are never read from a descriptor of another
 * version, so an old plugin is never loaded into undefined behaviour. A plugin
 * may also return NULL when it cannot serve `host_abi_version`.
 *
 * Data crosses the boundary as UTF-8 JSON with explicit lengths (no NUL
 * terminator is required or guaranteed). Memory ownership:
 *   - `input` belongs to the host and is valid only during the call;
 *   - `*output` is allocated by the plugin and released by the host through the
 *     same descriptor's free_output(), exactly once, after run() returns (on
 *     success AND on failure, when non-NULL: on failure it holds the message);
 *   - strings in the descriptor are static and live as long as the library.
 *
 * Threads: run() may be called from several threads at once with different
 * instances (create() is called once per worker thread); a plugin that keeps
 * no state may return NULL from create() or leave create NULL.
 *
 * Job kinds and the JSON each receives and returns are specified in
 * docs/plugins.md (plugin author's guide) and docs/worker-protocol.md.
 */
#ifndef NORMBASE_PLUGIN_H_
#define NORMBASE_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to the structs below. */
#define NB_PLUGIN_ABI_VERSION 1u

/* What a plugin does: a check runs on every proposal revision and returns
 * passed/failed findings; an analysis runs on the merged dataset (and on open
 * proposals as "what would change") and returns a result document. */
#define NB_PLUGIN_KIND_CHECK "check"
#define NB_PLUGIN_KIND_ANALYSIS "analysis"

/* run() results. */
#define NB_PLUGIN_OK 0          /* *output holds the result JSON          */
#define NB_PLUGIN_BAD_INPUT 1   /* input not understood; *output: message */
#define NB_PLUGIN_FAILED 2      /* internal failure;     *output: message */

/* Services the host offers to a running job. */
typedef struct nb_host {
  void* ctx; /* pass back unchanged */
  /* Reports progress on a long job (fraction in [0,1]; message may be NULL).
   * Cheap to call; the worker forwards at most a few updates per second. */
  void (*progress)(void* ctx, double fraction, const char* message);
  /* Non-zero when the job has been cancelled (deadline passed, worker
   * draining): a long job should return NB_PLUGIN_FAILED soon after. */
  int (*cancelled)(void* ctx);
} nb_host;

typedef struct nb_plugin {
  uint32_t abi_version;    /* == NB_PLUGIN_ABI_VERSION of the plugin's build */
  const char* name;        /* unique, [a-z0-9-]+, e.g. "codebook"            */
  const char* version;     /* the plugin's own version, e.g. "1.2.0"         */
  const char* kind;        /* NB_PLUGIN_KIND_CHECK or NB_PLUGIN_KIND_ANALYSIS */
  const char* description; /* one line, shown in GET /api/v1/workers         */

  /* Optional per-thread state; config_json is the plugin's configuration
   * (JSON object, possibly "{}"). May be NULL. */
  void* (*create)(const char* config_json, size_t config_len);
  void (*destroy)(void* instance);

  /* Runs one job. Returns NB_PLUGIN_OK and sets *output and *output_len, or an
   * error code with *output holding a one-line message (or NULL). */
  int (*run)(void* instance, const char* input, size_t input_len, const nb_host* host,
             char** output, size_t* output_len);

  /* Frees a buffer returned through run()'s *output. */
  void (*free_output)(char* output);
} nb_plugin;

typedef const nb_plugin* (*nb_plugin_entry_fn)(uint32_t host_abi_version);

#define NB_PLUGIN_ENTRY_SYMBOL "normbase_plugin_entry"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NORMBASE_PLUGIN_H_ */
