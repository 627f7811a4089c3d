/* Internals of the watched folders, shared by the watch*.c files.
 *
 * Threads: the main thread owns the folders' state (directories, inotify,
 * files waiting to be complete); the host's one queue worker owns what an
 * intake does (opening, checking, copying into a job, disposing of the
 * source, delivering) and the identities of files held by jobs. They talk
 * through queued Intake items and WatchVerdict replies. */
#pragma once

#include "scand/core/file-check.h"
#include "scand/core/job.h"
#include "scand/service/watch.h"

#include <sys/stat.h>

G_BEGIN_DECLS

#define WATCH_DONE_DIR ".scand-done"
#define WATCH_ERROR_DIR ".scand-error"
/* Deeper directory trees are not followed (and logged): each level costs an
 * open directory and an inotify watch. */
#define WATCH_MAX_DEPTH 32
/* Safety-net rescans without poll-interval: local file systems, and network
 * ones (where they are how files are found at all). */
#define WATCH_POLL_LOCAL_S 60
/* Files taken in one group commit at most (watch-intake.c): each holds a few
 * descriptors until its batch is done. */
#define WATCH_BATCH_MAX 32
#define WATCH_POLL_NETWORK_S 10

/* One [watch NAME]: immutable once made, shared with the worker. */
typedef struct {
  char *name;
  char *path;
  char *after; /* "delete", "move:/dir" or NULL (the .scand-done folder) */
  char *profile;
  gboolean recursive;
  gboolean collate; /* collate = double-sided */
  gint64 stable_us;
  gint64 incomplete_wait_us;
  gint64 poll_us; /* 0 = the default for the folder's file system */
  gint64 collate_wait_us;
} WatchConfig;

/* A watched folder's descriptor, shared by the intakes queued for it (one
 * descriptor per folder, however many files wait). */
typedef struct {
  gint refs; /* atomic */
  int fd;
} WatchFd;

/* A directory being watched (main thread). */
typedef struct {
  guint root; /* index of its watch */
  char *rel;  /* below the watched folder; "" for the folder itself */
  char *key;  /* "root\x1frel", the key of dirs_by_rel */
  int fd;
  int wd;
  dev_t dev;
  ino_t ino;
} WatchDir;

/* Runtime state of one watch (main thread). */
typedef struct {
  WatchConfig *config; /* borrowed from the watcher's configs */
  WatchDir *top;       /* NULL while the folder is missing */
  WatchFd *top_fd;     /* the folder's descriptor for intakes; NULL with top */
  gboolean lost;       /* the folder is missing: waiting for it to come back */
  int parent_wd;       /* on the parent inotify, -1 when the parent cannot be watched */
  gboolean network;    /* NFS, CIFS, …: inotify sees only local changes */
  gint64 poll_us;      /* the rescan period in force */
  guint poll_timer;
} WatchRoot;

typedef struct Pending Pending;

struct ScandWatcher {
  ScandWatcherHost host;
  gint refs;          /* atomic: the main thread's, plus one per queued item */
  GPtrArray *configs; /* WatchConfig*, freed with the last reference */
  /* main thread */
  gboolean stopped;
  GPtrArray *roots; /* WatchRoot*, one per config */
  int ifd;          /* inotify on the watched directories */
  int parent_ifd;   /* inotify on the parents of the watched folders */
  guint source, parent_source, rescan_idle;
  GHashTable *dirs;        /* wd → WatchDir* (owned) */
  GHashTable *dirs_by_rel; /* key → WatchDir* */
  GHashTable *pending;     /* "root\x1frel" → Pending* */
  GHashTable *logged;      /* refusals already logged once */
  GPtrArray *waiting;      /* first passes of collating watches */
  GPtrArray *move_targets; /* folders files are moved to (after = move:…), never watched */
  /* intakes waiting for the worker, taken WATCH_BATCH_MAX at a time */
  GMutex batch_lock;
  GPtrArray *batch;      /* Intake*, under batch_lock */
  gboolean batch_queued; /* a worker item for them is queued, under batch_lock */
  /* queue worker */
  GHashTable *held;        /* source identity → id of the job that holds it */
  GHashTable *held_logged; /* identities whose skip was logged */
  gint n_held;             /* atomic: the size of held, for the main thread */
};

/* What the worker did with a file, for the main thread. */
typedef enum {
  WATCH_TAKEN,       /* in a job now, and disposed of (or kept by its job) */
  WATCH_GONE,        /* no longer there */
  WATCH_LEFT,        /* left alone until it changes (refused, or held by a job) */
  WATCH_QUARANTINED, /* moved to .scand-error */
  WATCH_INCOMPLETE,  /* not complete yet: wait for a change or incomplete-wait */
  WATCH_CHANGED,     /* changed while being taken: wait until stable again */
  WATCH_LATER,       /* not now (spool trouble, stopping): try again at the next rescan */
  WATCH_REWAIT,      /* a complete first pass whose partner was not: wait for a partner again */
} WatchVerdict;

/* A file (or a collated pair) to take, queued on the worker. */
typedef struct {
  ScandWatcher *watcher; /* a reference */
  guint root;
  WatchConfig *config;
  WatchFd *root_fd;  /* a reference */
  char *rels[3];     /* one file, or fronts and backs; NULL-terminated */
  gboolean final[2]; /* incomplete-wait is over: a file still incomplete goes to .scand-error */
} Intake;

/* A watched file opened for taking (worker). */
typedef struct {
  int dir_fd;            /* its directory, owned; -1 when not open */
  const char *root_path; /* the watched folder, for messages (borrowed) */
  char *rel;             /* below the watched folder: "a/b.pdf" */
  const char *name;      /* its last component (inside rel) */
  int fd;                /* the file, -1 when not open */
  struct stat st;
  char *identity; /* see watch_source_identity() */
} WatchSource;

/* watch-source.c (worker) */
/* Opens rel beneath root_fd (see watch-source.c for what is refused). FALSE
 * with G_IO_ERROR_NOT_FOUND when it is gone, else with the reason it is not
 * taken. */
gboolean watch_source_open(WatchSource *src, int root_fd, const char *root_path, const char *rel, GError **error);
void watch_source_clear(WatchSource *src);
/* Whether src's name still refers to the file src has open. */
gboolean watch_source_still_there(WatchSource *src);

/* watch-dispose.c (worker) */
/* Directories whose fsync a batch owes, each fsynced once at its end. */
typedef struct WatchDirSync WatchDirSync;
WatchDirSync *watch_dir_sync_new(void);
/* fsyncs every directory recorded; FALSE when one fsync failed. */
gboolean watch_dir_sync_flush(WatchDirSync *sync);
void watch_dir_sync_free(WatchDirSync *sync);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WatchDirSync, watch_dir_sync_free)

/* Deletes src or moves it below the folder after says ("delete",
 * "move:/dir", else the watch's .scand-done), keeping its path below the
 * watched folder; *where (may be NULL) gets the new path or NULL. A file that
 * is no longer there under its name counts as disposed of. The directories
 * changed are fsynced now, or recorded in sync (may be NULL) for its flush. */
gboolean watch_dispose(const WatchConfig *config, int root_fd, WatchSource *src, const char *after, char **where,
                       WatchDirSync *sync, GError **error);
/* Moves src to the watch's .scand-error folder with a note saying why. */
gboolean watch_quarantine(const WatchConfig *config, int root_fd, WatchSource *src, const char *reason, char **where,
                          GError **error);

/* watch.c */
void watch_log(ScandWatcher *watcher, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Logs once per watcher (per key) what is refused about a file. */
void watch_log_once(ScandWatcher *watcher, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
ScandWatcher *watch_ref(ScandWatcher *watcher);
void watch_unref(ScandWatcher *watcher);
/* "root\x1frel": the key of a file or directory in the tables. */
char *watch_key(guint root, const char *rel);
/* "/srv/scans/in/a/b.pdf" for messages, printable. */
char *watch_display(const WatchConfig *config, const char *rel);
/* Logs once that rel (not a regular file: a symbolic link, a FIFO, …) is
 * left alone. */
void watch_refuse_entry(ScandWatcher *watcher, guint root, const char *rel, const struct stat *st);
/* Names that writers use while a file is not finished, and our own folders. */
gboolean watch_name_ignored(const char *name);

/* watch.c: WatchFd (any thread). fd is taken. */
WatchFd *watch_fd_new(int fd);
WatchFd *watch_fd_ref(WatchFd *wfd);
void watch_fd_unref(WatchFd *wfd);

/* watch-tree.c (main thread) */
void watch_tree_open_root(ScandWatcher *watcher, guint root, gboolean create);
void watch_tree_lose_root(ScandWatcher *watcher, guint root, const char *why);
void watch_tree_add_dir(ScandWatcher *watcher, WatchDir *parent, const char *name, guint depth);
void watch_tree_remove(ScandWatcher *watcher, WatchDir *dir);
void watch_tree_rescan(ScandWatcher *watcher, guint root);
WatchDir *watch_tree_find(ScandWatcher *watcher, guint root, const char *rel);
void watch_dir_free(WatchDir *dir);

/* watch-pending.c (main thread) */
typedef enum {
  WATCH_SEEN,    /* found by a scan */
  WATCH_WRITTEN, /* IN_MODIFY: a writer has it open */
  WATCH_CLOSED,  /* IN_CLOSE_WRITE */
  WATCH_TOUCHED, /* any other event */
  WATCH_REMOVED, /* deleted or moved away */
} WatchEvent;
void watch_pending_event(ScandWatcher *watcher, WatchDir *dir, const char *name, WatchEvent event);
void watch_pending_free(Pending *p);
/* Queues an intake of rels (1 or 2, NULL-terminated) of root, each with its
 * final flag (see Intake); main thread. */
void watch_pending_push(ScandWatcher *watcher, guint root, const char *const *rels, const gboolean *final);
/* Tells the main thread what became of rel (any thread). */
void watch_pending_report(ScandWatcher *watcher, guint root, const char *rel, WatchVerdict verdict);
/* Files of root that wait only for the next rescan get another try. */
void watch_pending_retry(ScandWatcher *watcher, guint root);

/* watch-collate.c (main thread) */
void watch_collate_ready(ScandWatcher *watcher, guint root, const char *rel, gboolean final);
/* Drops rel from the first passes waiting; TRUE if it was one. */
gboolean watch_collate_forget(ScandWatcher *watcher, guint root, const char *rel);
void watch_waiting_free(gpointer waiting);

/* watch-intake.c */
/* Hands in (taken) to the worker, which takes it with the others waiting
 * then as one batch (group commit); any thread. */
void watch_intake_enqueue(ScandWatcher *watcher, Intake *in);
void watch_intake_free(Intake *in);

/* watch-recover.c (worker) */
/* Loads the identities of files that spool jobs hold, and disposes of those
 * files whose jobs were made but not followed by the disposal (a crash, a
 * refused move). Queued first by every new watcher, and again at rescans
 * while some are held. */
void watch_recover_run(gpointer watcher, gpointer unused);

G_END_DECLS
