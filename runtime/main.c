/* main.c — the mnemo command: picks a subcommand and hands it the rest of the line. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

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
          "  mnemo --version | --help\n"
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
    if (strcmp(command, "infer") == 0)
        return cli_infer(argc - 2, argv + 2);
    if (strcmp(command, "inspect") == 0)
        return cli_inspect(argc - 2, argv + 2);
    if (strcmp(command, "run") == 0)
        return cli_run(argc - 2, argv + 2);
    if (strcmp(command, "params") == 0)
        return cli_params(argc - 2, argv + 2);
    if (strcmp(command, "check") == 0)
        return cli_check(argc - 2, argv + 2);
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 ||
        strcmp(command, "help") == 0) {
        usage(stdout);
        return MNEMO_EXIT_OK;
    }
    if (strcmp(command, "--version") == 0) {
        printf("mnemo %s\n", MNEMO_VERSION);
        return MNEMO_EXIT_OK;
    }
    if (command[0] == '-') /* `mnemo --headless ...`: run is the default command */
        return cli_run(argc - 1, argv + 1);
    fprintf(stderr, "mnemo: unknown command '%s'\n\n", command);
    usage(stderr);
    return MNEMO_EXIT_USAGE;
}
