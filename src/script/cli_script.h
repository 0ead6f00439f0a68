/*
 * cli_script.h — `tcpstate script [options] FILE.pkt... | DIR`.
 */
#ifndef TS_SCRIPT_CLI_SCRIPT_H
#define TS_SCRIPT_CLI_SCRIPT_H

/* argv[0] is "script". Returns the exit status: 0 when every script
 * passed (or was skipped), 1 when one failed, 2 on a usage or syntax
 * error. */
int ts_cli_script(int argc, char **argv);

#endif
