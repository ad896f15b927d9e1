// A libFuzzer front end for a managed harness instrumented by SharpFuzz.
//
// libFuzzer runs in this process; the harness runs in a child process (dotnet RpcGen.Fuzz.dll
// <harness>) started once and fed every input. The two talk the way SharpFuzz's
// Fuzzer.LibFuzzer.Run expects:
//   - one System V shared memory segment: the first 64 KiB are the coverage map the instrumented
//     assemblies write (AFL-style edge counters), then the input bytes;
//   - a control pipe (this process writes the input length, a 32-bit int) and a status pipe (the
//     child writes a 32-bit int when it is ready, and after each input: 0 for no finding);
//   - their ids in __LIBFUZZER_SHM_ID, __LIBFUZZER_CONTROL_PIPE_ID and __LIBFUZZER_STATUS_PIPE_ID.
// After each input the coverage map is copied into libFuzzer's extra counters, so libFuzzer's
// corpus growth, cov: and ft: figures reflect the managed code.
//
// Flags (libFuzzer ignores flags that start with "--"):
//   --target=<program>           the program to start (e.g. the dotnet host)
//   --target-arg=<arg>           an argument for it; repeat in order
//   --child-rss-limit-mb=<n>     abort (an "oom" finding) when the child's peak RSS passes n MiB
// libFuzzer's own rss: and -rss_limit_mb measure this small process; the child's peak RSS is
// checked here and printed at exit as "child_peak_rss_mb".
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum
{
    COVERAGE_BYTES = 1 << 16,   // SharpFuzz's map size
    MAX_INPUT_BYTES = 1 << 20,  // the room after the map; run with -max_len no larger
    MAX_TARGET_ARGS = 64,
};

// libFuzzer reads every byte of this section as a coverage counter.
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t managed_counters[COVERAGE_BYTES];

static const char *target;
static char *target_argv[MAX_TARGET_ARGS + 2];
static int target_argc;
static long child_rss_limit_mb;

// Every coverage map slot any input has hit, for the "managed_edges" count printed at exit
// (libFuzzer's own cov: counts only native code; it sees the managed edges as features, ft:).
static uint8_t edges_seen[COVERAGE_BYTES];
static long managed_edges;

static uint8_t *shared;
static int control_fd = -1;
static int status_fd = -1;
static pid_t child = -1;

static void fail(const char *what)
{
    fprintf(stderr, "rpcgen-libfuzzer: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
    exit(1);
}

static const char *flag_value(const char *arg, const char *name)
{
    size_t length = strlen(name);
    return strncmp(arg, name, length) == 0 && arg[length] == '=' ? arg + length + 1 : NULL;
}

static void parse_flags(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
    {
        const char *value;
        if ((value = flag_value(argv[i], "--target")) != NULL)
        {
            target = value;
        }
        else if ((value = flag_value(argv[i], "--target-arg")) != NULL)
        {
            if (target_argc == MAX_TARGET_ARGS)
            {
                fail("too many --target-arg flags");
            }

            target_argv[1 + target_argc++] = (char *)value;
        }
        else if ((value = flag_value(argv[i], "--child-rss-limit-mb")) != NULL)
        {
            child_rss_limit_mb = strtol(value, NULL, 10);
        }
    }

    if (target == NULL)
    {
        errno = 0;
        fail("missing --target=<program>");
    }

    target_argv[0] = (char *)target;
    target_argv[1 + target_argc] = NULL;
}

// The child's peak resident set (VmHWM) in MiB, or -1 when it cannot be read.
static long child_peak_rss_mb(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)child);
    FILE *status = fopen(path, "r");
    if (status == NULL)
    {
        return -1;
    }

    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, status) != NULL)
    {
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
        {
            break;
        }
    }

    fclose(status);
    return kib < 0 ? -1 : kib / 1024;
}

static void print_stats(void)
{
    fprintf(stderr, "child_peak_rss_mb: %ld\nmanaged_edges: %ld\n", child_peak_rss_mb(), managed_edges);
}

// A finding: the figures first, because abort() skips the exit handlers that print them.
static void report_finding(void)
{
    print_stats();
    abort();
}

static void stop_child(void)
{
    if (child > 0)
    {
        print_stats();
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
}

// Moves one 32-bit int through a pipe whole, retrying short transfers and interrupted calls;
// -1 when the other end is gone.
static int transfer_int(int fd, int32_t *value, int writing)
{
    size_t done = 0;
    while (done < sizeof *value)
    {
        char *at = (char *)value + done;
        size_t left = sizeof *value - done;
        ssize_t n = writing ? write(fd, at, left) : read(fd, at, left);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }

        if (n <= 0)
        {
            return -1;
        }

        done += (size_t)n;
    }

    return 0;
}

static void start_child(void)
{
    int shm_id = shmget(IPC_PRIVATE, COVERAGE_BYTES + MAX_INPUT_BYTES, IPC_CREAT | IPC_EXCL | 0600);
    if (shm_id < 0)
    {
        fail("shmget");
    }

    shared = shmat(shm_id, NULL, 0);
    if (shared == (void *)-1)
    {
        fail("shmat");
    }

    int control[2], status[2];
    if (pipe(control) != 0 || pipe(status) != 0)
    {
        fail("pipe");
    }

    child = fork();
    if (child < 0)
    {
        fail("fork");
    }

    if (child == 0)
    {
        // If libFuzzer ends this process without running exit handlers (a timeout does), the
        // harness must not live on.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(control[1]);
        close(status[0]);
        char value[32];
        snprintf(value, sizeof value, "%d", shm_id);
        setenv("__LIBFUZZER_SHM_ID", value, 1);
        snprintf(value, sizeof value, "%d", control[0]);
        setenv("__LIBFUZZER_CONTROL_PIPE_ID", value, 1);
        snprintf(value, sizeof value, "%d", status[1]);
        setenv("__LIBFUZZER_STATUS_PIPE_ID", value, 1);
        execv(target, target_argv);
        fail("exec of --target");
    }

    close(control[0]);
    close(status[1]);
    control_fd = control[1];
    status_fd = status[0];
    atexit(stop_child);

    int32_t ready;
    if (transfer_int(status_fd, &ready, 0) != 0)
    {
        errno = 0;
        fail("the harness process ended before it was ready (wrong harness name, or not built?)");
    }

    // The child has attached; marking the segment for removal now frees it however we end.
    shmctl(shm_id, IPC_RMID, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    parse_flags(*argc, *argv);
    start_child();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT_BYTES)
    {
        // Never fed: the shared segment has no room. -max_len keeps libFuzzer below this.
        return -1;
    }

    memset(shared, 0, COVERAGE_BYTES);
    memcpy(shared + COVERAGE_BYTES, data, size);
    int32_t length = (int32_t)size, finding;
    if (transfer_int(control_fd, &length, 1) != 0 || transfer_int(status_fd, &finding, 0) != 0)
    {
        int wstatus = 0;
        waitpid(child, &wstatus, 0);
        child = -1;
        fprintf(stderr, "rpcgen-libfuzzer: the harness process died on this input (%s %d)\n",
                WIFSIGNALED(wstatus) ? "signal" : "exit status", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
        fprintf(stderr, "managed_edges: %ld\n", managed_edges);
        abort();
    }

    if (finding != 0)
    {
        fprintf(stderr, "rpcgen-libfuzzer: the harness reported a finding (its exception is printed above)\n");
        report_finding();
    }

    memcpy(managed_counters, shared, COVERAGE_BYTES);
    const uint64_t *words = (const uint64_t *)shared;
    for (size_t w = 0; w < COVERAGE_BYTES / sizeof *words; w++)
    {
        if (words[w] == 0)
        {
            continue;
        }

        for (size_t i = w * sizeof *words; i < (w + 1) * sizeof *words; i++)
        {
            if (shared[i] != 0 && edges_seen[i] == 0)
            {
                edges_seen[i] = 1;
                managed_edges++;
            }
        }
    }

    // Every 64th input: reading /proc costs more than many inputs do, and a peak only grows.
    static unsigned inputs;
    if (child_rss_limit_mb > 0 && ++inputs % 64 == 0)
    {
        long rss = child_peak_rss_mb();
        if (rss > child_rss_limit_mb)
        {
            fprintf(stderr, "rpcgen-libfuzzer: the harness process's peak RSS is %ld MiB, over --child-rss-limit-mb=%ld\n", rss, child_rss_limit_mb);
            report_finding();
        }
    }

    return 0;
}
