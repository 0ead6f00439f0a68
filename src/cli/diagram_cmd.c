/*
 * diagram_cmd.c — `tcpstate diagram`: the transition table the state
 * machine obeys (ts_transition_table(), the same data ts_set_state()
 * checks every transition against), as text, Graphviz or JSON.
 *
 * The drawing itself is src/drv/diagram.c.
 */
#include <string.h>

#include "tcpstate.h"
#include "cli/cli.h"
#include "drv/diagram.h"

#define CMD "diagram"

void ts_cli_diagram_help(FILE *out)
{
    fputs("usage: tcpstate diagram [--format text|dot|json]\n"
          "\n"
          "Prints the TCP state machine tcpstate obeys: every state, and every\n"
          "transition with the event that causes it and the action taken\n"
          "(\"rcv SYN / snd SYN,ACK\", \"app close / snd FIN\", \"timeout 2MSL\").\n"
          "It is the table the stack checks each of its transitions against.\n"
          "\n"
          "Options:\n"
          "  --format text   grouped by state, for reading (the default)\n"
          "  --format dot    Graphviz source laid out like RFC 9293's figure:\n"
          "                  tcpstate diagram --format dot | dot -Tsvg > states.svg\n"
          "  --format json   {\"states\": [...], \"transitions\": [{\"from\", \"to\",\n"
          "                  \"cause\", \"event\", \"action\"}, ...]}\n"
          "  --help, -h      this text\n",
          out);
}

int ts_cli_diagram(int argc, char **argv)
{
    const char *format = "text";
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ts_cli_diagram_help(stdout);
            return TS_EXIT_OK;
        }
        m = ts_cli_opt(argc, argv, &i, CMD, "--format", &v);
        if (m < 0)
            return TS_EXIT_USAGE;
        if (m == 0 && argv[i][0] == '-')
            return ts_cli_usage(CMD, "unknown option '%s' (see tcpstate diagram --help)",
                                argv[i]);
        if (m == 0)
            return ts_cli_usage(CMD, "unexpected argument '%s'", argv[i]);
        format = v;
    }
    if (strcmp(format, "text") == 0)
        ts_diagram_text(stdout);
    else if (strcmp(format, "dot") == 0)
        ts_diagram_dot(stdout);
    else if (strcmp(format, "json") == 0)
        ts_diagram_json(stdout);
    else
        return ts_cli_usage(CMD, "unknown format '%s' (text, dot or json)", format);
    return TS_EXIT_OK;
}
