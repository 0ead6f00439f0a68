/*
 * tundev.h — making a TUN device and giving the kernel's side of it an
 * address: the small piece of set-up shared by the TUN driver
 * (tun_linux.c) and the script runner's Linux target
 * (src/script/target_linux.c). Linux only.
 *
 * The device is a layer-3 TUN (IFF_TUN | IFF_NO_PI): each read() is one
 * IPv4 datagram the kernel routed to it, each write() one datagram the
 * kernel receives as if from the wire. Nothing here chooses a network
 * namespace: callers that must not touch the host's network unshare one
 * first (target_linux.c does; the interop tests run `tcpstate tun` under
 * `unshare -n`).
 */
#ifndef TS_DRV_TUNDEV_H
#define TS_DRV_TUNDEV_H

#include <stddef.h>
#include <stdint.h>

enum ts_tundev_why {
    TS_TUNDEV_OK = 0,
    TS_TUNDEV_NO_DEVICE, /* no /dev/net/tun */
    TS_TUNDEV_NOT_ROOT   /* not root (no CAP_NET_ADMIN) */
};

/* Whether this process may make a TUN device: TS_TUNDEV_OK, or why not
 * with a one-line reason in err ("no /dev/net/tun ...", "needs root ..."). */
int ts_tundev_precheck(char *err, size_t errlen);

/* Creates (or attaches to) the TUN device `name` (at most 15 characters).
 * Returns its descriptor (O_CLOEXEC, blocking), or -1 with err set. */
int ts_tundev_open(const char *name, char *err, size_t errlen);

/* Gives the kernel's end of device `name` the address ip/prefix (host
 * order), the MTU (<= 0: 1500) and brings it up; the kernel then routes
 * the prefix through the device. 0, or -1 with err set. */
int ts_tundev_config(const char *name, uint32_t ip, int prefix, int mtu,
                     char *err, size_t errlen);

/* Brings interface `name` up ("lo" in a fresh namespace). 0 or -1. */
int ts_tundev_up(const char *name, char *err, size_t errlen);

#endif
