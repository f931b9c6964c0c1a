/*
 * workers - the supervisor.  Deliberately not an event loop: it only
 * waits for signals (sigsuspend with everything blocked otherwise), so a
 * worker never inherits a libevent base from its parent.
 */
#include "workers.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spread.h"

#define WORKERS_MAX 256
#define RESPAWN_MIN_S 1           /* a worker dying faster than this is restarted after a pause */
#define STOP_KILL_S 40            /* SIGKILL workers still alive this long after SIGTERM */

static volatile sig_atomic_t got_term, got_hup, got_chld, got_alrm, got_usr1;
static volatile sig_atomic_t term_sig;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		got_term = 1;
		term_sig = sig;
		break;
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGCHLD:
		got_chld = 1;
		break;
	case SIGALRM:
		got_alrm = 1;
		break;
	case SIGUSR1:
		got_usr1 = 1;
		break;
	}
}

static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGALRM, SIGUSR1 };

static pid_t
spawn_worker(const struct server_opts *opts, struct conf *conf, struct listen_set *ls,
	     const sigset_t *oldmask, struct spread *sp, int slot)
{
	pid_t parent = getpid(), pid = fork();

	if (pid != 0)
		return pid;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	/*
	 * A supervisor killed outright (SIGKILL, OOM) must not leave its
	 * workers accepting on the sockets: a restarted server would find
	 * them busy.  They get the SIGTERM they would have been sent.
	 */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	_exit(server_run(opts, conf, ls, -1, -1, sp, slot));
}

int
workers_run(int n, const struct server_opts *opts, struct conf *conf,
	    struct listen_set *ls)
{
	pid_t pids[WORKERS_MAX];
	time_t started[WORKERS_MAX];
	struct sigaction sa;
	struct spread *sp;
	sigset_t block, oldmask;
	int alive = 0, stopping = 0, status;
	pid_t pid;

	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	conf = conf_ref(conf);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &oldmask);

	/* without the board every worker accepts, as with an even spread */
	if ((sp = spread_new(n)) == NULL)
		log_err("worker board: %s; connections go to any worker", strerror(errno));
	for (int i = 0; i < n; i++) {
		pids[i] = spawn_worker(opts, conf, ls, &oldmask, sp, i);
		started[i] = time(NULL);
		if (pids[i] < 0) {
			log_err("fork: %s", strerror(errno));
			if (sp != NULL)
				spread_slot_clear(sp, i);
		} else {
			alive++;
		}
	}
	log_info("%d worker process%s started", alive, alive == 1 ? "" : "es");
	if (alive == 0) {
		spread_free(sp);
		conf_unref(conf);
		return 1;
	}

	while (alive > 0 || (!stopping && n > 0)) {
		sigset_t wait_mask = oldmask;

		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigdelset(&wait_mask, sigs[i]);
		if (!got_term && !got_hup && !got_chld && !got_alrm && !got_usr1)
			sigsuspend(&wait_mask);

		if (got_term && !stopping) {
			got_term = 0;
			stopping = 1;
			log_info("%s: stopping %d worker%s", term_sig == SIGINT ? "SIGINT" : "SIGTERM",
				 alive, alive == 1 ? "" : "s");
			for (int i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
			listen_close_fds(ls);
			alarm(STOP_KILL_S);
		}
		if (got_hup) {
			char err[512];
			struct conf *nc;

			got_hup = 0;
			err[0] = '\0';
			/* the parent's copy is what restarted workers begin with */
			nc = access(opts->conf_path, R_OK) < 0 && errno != ENOENT ? NULL :
			     conf_load(opts->conf_path, err, sizeof(err));
			if (nc != NULL) {
				conf_unref(conf);
				conf = nc;
			}
			for (int i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGHUP);
		}
		if (got_usr1) {
			got_usr1 = 0;
			for (int i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGUSR1);
		}
		if (got_alrm) {
			got_alrm = 0;
			if (stopping) {
				log_err("workers did not stop in %d s; killing them", STOP_KILL_S);
				for (int i = 0; i < n; i++)
					if (pids[i] > 0)
						kill(pids[i], SIGKILL);
			}
		}
		got_chld = 0;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (int i = 0; i < n; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = 0;
				alive--;
				if (sp != NULL)
					spread_slot_clear(sp, i);
				if (stopping)
					break;
				if (WIFSIGNALED(status))
					log_err("worker %ld killed by signal %d", (long)pid, WTERMSIG(status));
				else
					log_err("worker %ld exited with status %d", (long)pid,
						WEXITSTATUS(status));
				if (time(NULL) - started[i] < RESPAWN_MIN_S)
					sleep(RESPAWN_MIN_S);    /* no fork storm */
				pids[i] = spawn_worker(opts, conf, ls, &oldmask, sp, i);
				started[i] = time(NULL);
				if (pids[i] > 0)
					alive++;
				else
					log_err("fork: %s", strerror(errno));    /* its slot stays clear */
				break;
			}
		}
		if (stopping && alive == 0)
			break;
	}
	alarm(0);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	spread_free(sp);
	conf_unref(conf);
	return 0;
}
