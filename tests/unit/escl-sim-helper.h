/* Test helper: starts the project's eSCL simulator (tests/escl-sim) and talks
 * to its control API. Shared by the eSCL backend and CLI tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GPid pid;
  char *dir;
  int port;
  char *http; /* "http://127.0.0.1:PORT" */
  char *uri;  /* "escl:http[s]://127.0.0.1:PORT/eSCL" */
  char *cert; /* PEM path with --tls */
  gboolean tls;
} Sim;

/* Starts the simulator (HTTPS with tls) on port (0 = any free one) with
 * extra arguments; waits until it listens. Aborts the test on failure. */
Sim *sim_start_v(gboolean tls, int port, const char *const *args);
#define sim_start(tls, ...) sim_start_v(tls, 0, (const char *const[]){ __VA_ARGS__, NULL })
/* Stops it and removes its directory. */
void sim_stop(Sim *sim);
/* A request to the control API; returns the body (newly allocated). */
char *sim_http(Sim *sim, const char *method, const char *path, const char *body);
void sim_control(Sim *sim, const char *json);

typedef struct {
  double time;
  char method[8];
  char path[200];
  char host[80];
  int status;
} LogEntry;

/* The request log (LogEntry array, time order). */
GArray *sim_log(Sim *sim);
/* Entries with this method, path suffix and status (0 = any). */
guint log_count(GArray *log, const char *method, const char *suffix, int status);

G_END_DECLS
