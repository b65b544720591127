/* main.c — the mnemo command: picks a subcommand and hands it the rest of the line. */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Each command's own usage, for `mnemo COMMAND --help`. */
static const char run_usage[] =
    "usage: mnemo [run] [--config FILE] [-o name=value]... [--backend auto|cuda|cpu|ref]\n"
    "                   [--seed N] [--windowed|--fullscreen] [--display N] [--stats FILE|-]\n"
    "                   [--record FILE.(mp4|mov|mkv)|URL]\n"
    "       mnemo [run] ... --headless --frames N --out DIR|FILE.(mp4|mov|mkv)|URL\n"
    "       mnemo [run] ... --headless --iterations N        (the loop alone, nothing recorded)\n"
    "       mnemo run --supervise [--watchdog S] ...         (restarted when it dies or hangs)\n"
    "\n"
    "Runs the piece: full-screen on the display, or recorded without one (--headless).\n"
    "  --config FILE      a config (mnemo params --config writes a complete one); watched:\n"
    "                     edits take effect live, SIGHUP reads it again\n"
    "  -o name=value      one parameter (mnemo params lists them), after the config\n"
    "  --backend B        where the networks run (loop.backend); auto = cuda when usable\n"
    "  --seed N           the one random generator's seed (loop.seed)\n"
    "  --stats FILE|-     one JSON line about once a second (it/s, fps, memory, ...)\n"
    "  --record PATH|URL  while presenting, also record what the screen shows (capture.out):\n"
    "                     a file, segmented every capture.segment_s, or srt://, udp://, rtmp://\n"
    "exit codes: 0 ok, 1 failed, 2 bad command line, 74 recording not written, 75 GPU lost\n";
static const char infer_usage[] =
    "usage: mnemo infer --model M.onnx --input IN.(png|npy) --output OUT.(png|npy)\n"
    "                   [--backend auto|cuda|cpu|ref] [--precision fp32|bf16] [--threads N]\n"
    "                   [--size HxW] [--bench N]\n"
    "\n"
    "Runs one model once on one input (--bench N: N timed runs, the median printed).\n";
static const char inspect_usage[] =
    "usage: mnemo inspect M.onnx [--size HxW] [--chain OTHER.onnx]\n"
    "\n"
    "A model's ops, shapes, parameters, MACs and what each backend supports; --chain checks\n"
    "that two models can feed each other as painter and sketcher.\n";
static const char params_usage[] =
    "usage: mnemo params [--config]\n"
    "\n"
    "Every parameter: name, type, range, default, live or restart, doc; --config writes a\n"
    "complete commented config instead.\n";
static const char check_usage[] =
    "usage: mnemo check FILE.cfg\n"
    "\n"
    "Validates a config without running; errors name file:line and the parameter.\n";

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} commands[] = {
    {"run", cli_run, run_usage},
    {"infer", cli_infer, infer_usage},
    {"inspect", cli_inspect, inspect_usage},
    {"params", cli_params, params_usage},
    {"check", cli_check, check_usage},
};

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* The command's own arguments, or its usage (exit 0) when they ask for help. */
static int command_run(const struct command *c, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (is_help(argv[i])) {
            fputs(c->usage, stdout);
            return MNEMO_EXIT_OK;
        }
    return c->run(argc, argv);
}

static void usage(FILE *out)
{
    fputs("mnemo " MNEMO_VERSION " - a real-time generative installation runtime\n"
          "\n"
          "usage:\n"
          "  mnemo [run] [--config FILE] [-o name=value]... [--backend auto|cuda|cpu|ref]\n"
          "              [--seed N] --headless --frames N --out DIR|FILE.(mp4|mov|mkv)\n"
          "              [--stats FILE|-]\n"
          "  mnemo [run] ... --headless --iterations N [--stats FILE|-]   (loop only)\n"
          "  mnemo params [--config]       every parameter (or a complete commented config)\n"
          "  mnemo check FILE.cfg          validate a config without running\n"
          "  mnemo infer   --model M.onnx --input IN.(png|npy) --output OUT.(png|npy)\n"
          "                [--backend auto|cuda|cpu|ref] [--precision fp32|bf16] [--threads N]\n"
          "                [--size HxW] [--bench N]\n"
          "  mnemo inspect M.onnx [--size HxW] [--chain OTHER.onnx]\n"
          "  mnemo run --supervise [--watchdog S] ...  the piece as a child process, restarted\n"
          "              when it dies or stops answering (no systemd needed)\n"
          "  mnemo --version | --help | COMMAND --help\n"
          "\n"
          "exit codes: 0 ok, 1 the work failed (the message says why), 2 bad command line,\n"
          "  74 a recording could not be written (full disk; what was written is kept),\n"
          "  75 the GPU context was lost (a sticky CUDA error): restart mnemo\n"
          "signals (run): TERM/INT stop cleanly, HUP reads --config again\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MNEMO_EXIT_USAGE;
    }
    const char *command = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(command, commands[i].name) == 0)
            return command_run(&commands[i], argc - 2, argv + 2);
    if (is_help(command) || strcmp(command, "help") == 0) {
        usage(stdout);
        return MNEMO_EXIT_OK;
    }
    if (strcmp(command, "--version") == 0) {
        printf("mnemo %s\n", MNEMO_VERSION);
        return MNEMO_EXIT_OK;
    }
    if (command[0] == '-') /* `mnemo --headless ...`: run is the default command */
        return command_run(&commands[0], argc - 1, argv + 1);
    fprintf(stderr, "mnemo: unknown command '%s'\n\n", command);
    usage(stderr);
    return MNEMO_EXIT_USAGE;
}
