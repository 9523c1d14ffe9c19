/*
 * The sandbox's file watcher and its single-instance lock. Internal, CLI
 * only (not in libsynth). Linux inotify.
 */
#ifndef SYNTH_WATCH_H
#define SYNTH_WATCH_H

#include <stdbool.h>

typedef struct synth_watch synth_watch;

/*
 * Watches the trees under PATHS (NULL-terminated; files or directories,
 * recursively, new subdirectories included), ignoring any path with a
 * component in IGNORE (NULL-terminated; e.g. "cdk.out", ".git",
 * "node_modules", the output directory). *out: caller frees with
 * synth_watch_free.
 */
int synth_watch_new(synth_watch **out, const char *const *paths, const char *const *ignore);
void synth_watch_free(synth_watch *w);

/*
 * The watch loop: runs RUN(ctx) once, then each time something changed,
 * debounced by DEBOUNCE_MS after the last change; changes during a run
 * cause exactly one more run after it. Returns when RUN returns < 0 (that
 * value), or 0 when *STOP becomes true (checked at least every 100 ms; set
 * it from a signal handler). CHANGED (may be NULL) is called with the first
 * changed path before each re-run, for the message.
 */
int synth_watch_loop(synth_watch *w, int debounce_ms, int (*run)(void *ctx), void *ctx,
		     void (*changed)(void *ctx, const char *path), volatile bool *stop);

/*
 * The single-instance lock for a sandbox IDENTIFIER: a file under DIR
 * (created), held with flock while the process lives. SYNTH_EEXISTS (with a
 * message naming the holder's pid) when another process holds it.
 * *fd_out: close it to release.
 */
int synth_watch_lock(int *fd_out, const char *dir, const char *identifier);

#endif
