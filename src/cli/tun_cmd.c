/*
 * tun_cmd.c — `tcpstate tun`: makes a TUN device, gives the kernel's side
 * an address, puts tcpstate's stack behind tcpstate's address on it, and
 * runs a command (tun_apps.c) until it completes or SIGINT/SIGTERM.
 *
 * Every argument is checked before the device is made: a bad one is one
 * line on stderr and exit status 2. So is a missing /dev/net/tun or
 * missing root (the line says which). The command's own reports go to
 * stderr; stdout carries only what was asked for (--json lines, the
 * --counters table), so it can be piped.
 */
#include "cli/tun_cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate.h"
#include "cli/cli.h"
#include "cli/tun_apps.h"
#include "drv/tun_linux.h"

#define CMD "tun"
#define MAX_SYSCTL 64

typedef struct tun_args {
    ts_tun_opts t;
    ts_config cfg;
    int json, counters;
    const char *command;
    serve_opts serve;
    connect_opts conn;
} tun_args;

void ts_cli_tun_help(FILE *out)
{
    fputs("usage: tcpstate tun [OPTIONS] COMMAND [COMMAND OPTIONS]\n"
          "\n"
          "Creates a TUN device, gives the kernel's side of it an address, and runs\n"
          "COMMAND on tcpstate's own stack behind tcpstate's address, in real time,\n"
          "until the command completes or SIGINT/SIGTERM (then its connections are\n"
          "closed cleanly). Needs root and /dev/net/tun. It uses the network namespace\n"
          "it is started in: run it under `unshare -n` to keep it off the host's network.\n"
          "\n"
          "Options:\n"
          "  --dev NAME                the device's name (tcpstate0)\n"
          "  --addr A                  tcpstate's address (192.0.2.1)\n"
          "  --kernel-addr A/P         the kernel's address and prefix (192.0.2.2/24)\n"
          "  --mtu N                   the device's MTU (1500)\n"
          "  --pcap FILE               write every datagram in and out to FILE (pcap)\n"
          "  --json                    JSON Lines on stdout: each state change and\n"
          "                            segment, as `tcpstate sim --json`, in real time\n"
          "  --counters                at the end, the driver's and the stack's counters\n"
          "  --record FILE             record every datagram and call for `tcpstate replay`\n"
          "  --sysctl NAME=VALUE       set a tunable of tcpstate's stack (repeatable)\n"
          "  --linger MS               at the end, wait at most MS for closes (3000)\n"
          "  --hold-syn, --hold-fin    debugging: hold tcpstate's first SYN (FIN) until\n"
          "                            the peer's SYN (FIN) arrives: simultaneous open\n"
          "                            (close) with the kernel\n"
          "\n"
          "Commands:\n"
          "  serve --port P [--http [--http-bytes N] | --echo | --discard | --no-read]\n"
          "        [--backlog N] [--keepalive IDLE,INTVL,CNT] [--close-after MS]\n"
          "      accept connections on port P, many at once: --discard (default) reads\n"
          "      and drops, --echo sends back, --no-read never reads, --http answers\n"
          "      a GET with an HTTP/1.1 200 and N bytes (1 MiB) of the pattern below\n"
          "      (one request per connection: Connection: close; other methods 405);\n"
          "      --close-after closes each connection MS after accepting it\n"
          "  connect HOST:PORT [--send-bytes N] [--recv] [--local-port P]\n"
          "        [--keepalive IDLE,INTVL,CNT] [--hold MS] [--syncnt N]\n"
          "      open a connection, wait MS idle (--hold), send N bytes of the pattern,\n"
          "      then close; with --recv, shut down writing and read until the peer\n"
          "      closes, checking the bytes against the pattern\n"
          "\n"
          "Sizes take K, M, G (1024-based) suffixes. The pattern: 16-byte lines, each\n"
          "the line's offset in the stream as 15 lowercase hex digits and '\\n'\n"
          "(\"000000000000000\\n000000000000010\\n...\"), cut at N bytes.\n"
          "\n"
          "Examples (as root, in a namespace of its own):\n"
          "  unshare -n sh -c 'tcpstate tun serve --port 80 --http --http-bytes 10M &\n"
          "                    sleep 1; curl -s http://192.0.2.1/ | md5sum'\n"
          "  tcpstate tun --pcap t.pcap --counters connect 192.0.2.2:9000 --send-bytes 1M\n"
          "\n"
          "Exit status: 0 success, 1 the command failed (refused, reset, bad data),\n"
          "2 usage error, not root, or no /dev/net/tun.\n",
          out);
}

/* ------------------------------------------------------------- parsing */

static int parse_size(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*v || *v == '-' || *v == '+')
        return ts_cli_usage(CMD, "bad value '%s' for %s: expected a size", v, opt);
    unsigned long long x = strtoull(v, &end, 10);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (errno || *end || (x << shift) >> shift != x || (x << shift) > max)
        return ts_cli_usage(CMD, "bad value '%s' for %s: expected a size up to %llu", v, opt,
                            (unsigned long long)max);
    *out = x << shift;
    return 0;
}

static int parse_int(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || errno || *end || x < lo || x > hi)
        return ts_cli_usage(CMD, "bad value '%s' for %s: expected a whole number from %ld to %ld",
                            v, opt, lo, hi);
    *out = x;
    return 0;
}

static int parse_ip(const char *opt, const char *v, uint32_t *ip)
{
    struct in_addr a;
    if (inet_pton(AF_INET, v, &a) != 1)
        return ts_cli_usage(CMD, "bad address '%s' for %s: expected an IPv4 address", v, opt);
    *ip = ntohl(a.s_addr);
    return 0;
}

/* A/P with P optional (24). */
static int parse_prefixed(const char *opt, const char *v, uint32_t *ip, int *prefix)
{
    char buf[64];
    const char *slash = strchr(v, '/');
    size_t n = slash ? (size_t)(slash - v) : strlen(v);
    long p = 24;
    if (n >= sizeof buf)
        return ts_cli_usage(CMD, "bad address '%s' for %s", v, opt);
    memcpy(buf, v, n);
    buf[n] = '\0';
    if (parse_ip(opt, buf, ip) || (slash && parse_int(opt, slash + 1, 1, 30, &p)))
        return TS_EXIT_USAGE;
    *prefix = (int)p;
    return 0;
}

static int parse_hostport(const char *v, ts_addr *a)
{
    char buf[64];
    const char *colon = strrchr(v, ':');
    long port;
    if (!colon || (size_t)(colon - v) >= sizeof buf)
        return ts_cli_usage(CMD, "bad destination '%s': expected HOST:PORT", v);
    memcpy(buf, v, (size_t)(colon - v));
    buf[colon - v] = '\0';
    if (parse_ip("connect", buf, &a->ip) || parse_int("connect", colon + 1, 1, 65535, &port))
        return TS_EXIT_USAGE;
    a->port = (uint16_t)port;
    return 0;
}

static int parse_keepalive(const char *v, int *idle, int *intvl, int *cnt)
{
    char *end;
    long x[3];
    const char *p = v;
    for (int i = 0; i < 3; i++) {
        errno = 0;
        x[i] = strtol(p, &end, 10);
        if (end == p || errno || x[i] < 1 || x[i] > 32767 || *end != (i < 2 ? ',' : '\0'))
            return ts_cli_usage(CMD, "bad value '%s' for --keepalive: expected IDLE,INTVL,CNT "
                                "(seconds, seconds, probes)", v);
        p = end + 1;
    }
    *idle = (int)x[0];
    *intvl = (int)x[1];
    *cnt = (int)x[2];
    return 0;
}

static int add_sysctl(tun_args *a, const char *item)
{
    char name[128], err[256];
    const char *eq = strchr(item, '=');
    size_t n = eq ? (size_t)(eq - item) : 0;
    if (!eq || n == 0 || n >= sizeof name)
        return ts_cli_usage(CMD, "bad sysctl '%s': expected NAME=VALUE", item);
    memcpy(name, item, n);
    name[n] = '\0';
    if (ts_config_set(&a->cfg, name, eq + 1, err, sizeof err) != 0)
        return ts_cli_usage(CMD, "%s", err);
    return 0;
}

/* One driver option at argv[*i]: 1 taken, 0 not a driver option, 2 error. */
static int driver_opt(tun_args *a, int argc, char **argv, int *i)
{
    const char *v = NULL;
    long x;
    int r;
    const char *arg = argv[*i];
    if (!strcmp(arg, "--json"))
        return a->json = 1;
    if (!strcmp(arg, "--counters"))
        return a->counters = 1;
    if (!strcmp(arg, "--hold-syn"))
        return a->t.hold_syn = 1;
    if (!strcmp(arg, "--hold-fin"))
        return a->t.hold_fin = 1;
#define OPT(name) ((r = ts_cli_opt(argc, argv, i, CMD, name, &v)) != 0)
    if (OPT("--dev"))
        return r < 0 ? 2 : (a->t.dev = v, 1);
    if (OPT("--addr"))
        return r < 0 || parse_ip("--addr", v, &a->t.addr) ? 2 : 1;
    if (OPT("--kernel-addr"))
        return r < 0 || parse_prefixed("--kernel-addr", v, &a->t.kernel_addr, &a->t.prefix) ? 2 : 1;
    if (OPT("--mtu"))
        return r < 0 || parse_int("--mtu", v, 576, 65535, &x) ? 2 : (a->cfg.mtu = (int)x, 1);
    if (OPT("--pcap"))
        return r < 0 ? 2 : (a->t.pcap_path = v, 1);
    if (OPT("--record"))
        return r < 0 ? 2 : (a->t.record_path = v, 1);
    if (OPT("--sysctl"))
        return r < 0 || add_sysctl(a, v) ? 2 : 1;
    if (OPT("--linger"))
        return r < 0 || parse_int("--linger", v, 0, 600000, &x) ? 2 : (a->t.linger_ms = (unsigned)x, 1);
    return 0;
}

static int serve_opt(tun_args *a, int argc, char **argv, int *i)
{
    serve_opts *o = &a->serve;
    const char *v = NULL;
    long x;
    int r;
    const char *arg = argv[*i];
    if (!strcmp(arg, "--http"))
        return o->mode = SERVE_HTTP, 1;
    if (!strcmp(arg, "--echo"))
        return o->mode = SERVE_ECHO, 1;
    if (!strcmp(arg, "--discard"))
        return o->mode = SERVE_DISCARD, 1;
    if (!strcmp(arg, "--no-read"))
        return o->mode = SERVE_NO_READ, 1;
    if (OPT("--port"))
        return r < 0 || parse_int("--port", v, 1, 65535, &x) ? 2 : (o->port = (uint16_t)x, 1);
    if (OPT("--http-bytes"))
        return r < 0 || parse_size("--http-bytes", v, 1ull << 40, &o->http_bytes) ? 2 : 1;
    if (OPT("--backlog"))
        return r < 0 || parse_int("--backlog", v, 0, 65535, &x) ? 2 : (o->backlog = (int)x, 1);
    if (OPT("--keepalive"))
        return r < 0 || parse_keepalive(v, &o->ka_idle, &o->ka_intvl, &o->ka_cnt) ? 2
                                                                              : (o->keepalive = 1);
    if (OPT("--close-after"))
        return r < 0 || parse_int("--close-after", v, 0, 86400000, &o->close_after_ms) ? 2 : 1;
    return 0;
}

static int connect_opt(tun_args *a, int argc, char **argv, int *i)
{
    connect_opts *o = &a->conn;
    const char *v = NULL;
    long x;
    int r;
    if (!strcmp(argv[*i], "--recv"))
        return o->recv = 1;
    if (OPT("--send-bytes"))
        return r < 0 || parse_size("--send-bytes", v, 1ull << 40, &o->send_bytes) ? 2 : 1;
    if (OPT("--local-port"))
        return r < 0 || parse_int("--local-port", v, 1, 65535, &x) ? 2 : (o->local_port = (uint16_t)x, 1);
    if (OPT("--keepalive"))
        return r < 0 || parse_keepalive(v, &o->ka_idle, &o->ka_intvl, &o->ka_cnt) ? 2
                                                                              : (o->keepalive = 1);
    if (OPT("--hold"))
        return r < 0 || parse_int("--hold", v, 0, 86400000, &o->hold_ms) ? 2 : 1;
    if (OPT("--syncnt"))
        return r < 0 || parse_int("--syncnt", v, 1, 255, &x) ? 2 : (o->syncnt = (int)x, 1);
#undef OPT
    return 0;
}

static int command_args(tun_args *a, int argc, char **argv, int i)
{
    int serve = !strcmp(a->command, "serve");
    int have_dest = 0;
    for (; i < argc; i++) {
        int r = serve ? serve_opt(a, argc, argv, &i) : connect_opt(a, argc, argv, &i);
        if (r == 2)
            return TS_EXIT_USAGE;
        if (r)
            continue;
        if (!serve && argv[i][0] != '-' && !have_dest) {
            if (parse_hostport(argv[i], &a->conn.remote))
                return TS_EXIT_USAGE;
            have_dest = 1;
            continue;
        }
        return ts_cli_usage(CMD, "%s: unknown %s '%s' (see tcpstate help tun)", a->command,
                            argv[i][0] == '-' ? "option" : "argument", argv[i]);
    }
    if (serve && a->serve.port == 0)
        return ts_cli_usage(CMD, "serve: --port is required");
    if (!serve && !have_dest)
        return ts_cli_usage(CMD, "connect: HOST:PORT is required");
    return 0;
}

static int parse_args(tun_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    ts_config_default(&a->cfg);
    a->t.addr = 0xC0000201u;        /* 192.0.2.1 */
    a->t.kernel_addr = 0xC0000202u; /* 192.0.2.2 */
    a->t.prefix = 24;
    a->serve.http_bytes = 1u << 20;
    a->serve.backlog = 128;
    a->serve.close_after_ms = -1;
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ts_cli_tun_help(stdout);
            return -1;
        }
        int r = driver_opt(a, argc, argv, &i);
        if (r == 2)
            return TS_EXIT_USAGE;
        if (!r)
            return ts_cli_usage(CMD, "unknown option '%s' (see tcpstate help tun)", argv[i]);
    }
    if (i >= argc)
        return ts_cli_usage(CMD, "a command is required: serve or connect");
    a->command = argv[i];
    if (strcmp(a->command, "serve") && strcmp(a->command, "connect"))
        return ts_cli_usage(CMD, "unknown command '%s' (commands: serve, connect)", a->command);
    return command_args(a, argc, argv, i + 1);
}

/* ----------------------------------------------------------------- run */

static int run(tun_args *a)
{
    char err[512];
    int rc = !strcmp(a->command, "serve") ? ts_tun_serve_app(&a->t.app, &a->serve)
                                          : ts_tun_connect_app(&a->t.app, &a->conn);
    if (rc) {
        fprintf(stderr, "tcpstate tun: out of memory\n");
        return TS_EXIT_FAIL;
    }
    a->t.cfg = &a->cfg;
    if (a->json) {
        setvbuf(stdout, NULL, _IOLBF, 0); /* a reader follows it live */
        a->t.json = stdout;
    }
    ts_tun *t = NULL;
    int why = ts_tun_open(&t, &a->t, err, sizeof err);
    if (why) {
        fprintf(stderr, "tcpstate tun: %s\n", err);
        ts_tun_app_free(&a->t.app);
        return why == TS_TUN_ERR_SETUP ? TS_EXIT_FAIL : TS_EXIT_USAGE;
    }
    int status = ts_tun_run(t);
    if (a->json) {
        if (a->counters)
            ts_tun_json_counters(t, stdout);
        ts_tun_json_end(t, stdout);
    } else if (a->counters) {
        ts_tun_print_counters(t, stdout);
    }
    if (ts_tun_close(t) < 0 && status == 0)
        status = TS_EXIT_FAIL;
    ts_tun_app_free(&a->t.app);
    fflush(stdout);
    return status;
}

int ts_cli_tun(int argc, char **argv)
{
    static tun_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc < 0)
        return TS_EXIT_OK;
    if (rc)
        return rc;
    char err[256];
    if (ts_tun_check_addrs(&a.t, err, sizeof err) < 0)
        return ts_cli_usage(CMD, "%s", err);
    return run(&a);
}
