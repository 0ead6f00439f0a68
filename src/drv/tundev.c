/*
 * tundev.c — TUN device creation and address set-up (tundev.h).
 *
 * Classic SIOCSIF* ioctls rather than rtnetlink: address, netmask, MTU and
 * IFF_UP are all that is needed, and the connected route for the prefix
 * appears by itself once the device is up with its address. Every failure
 * names the step and the device, so a one-line message tells the user
 * what went wrong.
 */
#include "drv/tundev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int ts_tundev_precheck(char *err, size_t errlen)
{
    if (access("/dev/net/tun", F_OK) != 0) {
        snprintf(err, errlen, "no /dev/net/tun (the TUN driver is missing)");
        return TS_TUNDEV_NO_DEVICE;
    }
    if (geteuid() != 0) {
        snprintf(err, errlen, "needs root (it creates a TUN device and configures it)");
        return TS_TUNDEV_NOT_ROOT;
    }
    return TS_TUNDEV_OK;
}

static int name_ok(const char *name, char *err, size_t errlen)
{
    if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/')) {
        snprintf(err, errlen, "bad device name '%s' (1 to %d characters, no '/')",
                 name ? name : "", IFNAMSIZ - 1);
        return -1;
    }
    return 0;
}

int ts_tundev_open(const char *name, char *err, size_t errlen)
{
    if (name_ok(name, err, errlen) < 0)
        return -1;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "open /dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "TUNSETIFF %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int ifr_ioctl(int s, unsigned long req, struct ifreq *ifr, const char *what,
                     char *err, size_t errlen)
{
    if (ioctl(s, req, ifr) == 0)
        return 0;
    snprintf(err, errlen, "%s on %s: %s", what, ifr->ifr_name, strerror(errno));
    return -1;
}

static void set_sin(struct sockaddr *sa, uint32_t ip)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(ip);
    memcpy(sa, &sin, sizeof sin);
}

static int up_on(int s, const char *name, char *err, size_t errlen)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ifr_ioctl(s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS", err, errlen) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    return ifr_ioctl(s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS", err, errlen);
}

static int ctl_socket(char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        snprintf(err, errlen, "socket for interface ioctls: %s", strerror(errno));
    return s;
}

int ts_tundev_up(const char *name, char *err, size_t errlen)
{
    if (name_ok(name, err, errlen) < 0)
        return -1;
    int s = ctl_socket(err, errlen);
    if (s < 0)
        return -1;
    int rc = up_on(s, name, err, errlen);
    close(s);
    return rc;
}

int ts_tundev_config(const char *name, uint32_t ip, int prefix, int mtu,
                     char *err, size_t errlen)
{
    if (name_ok(name, err, errlen) < 0)
        return -1;
    if (prefix < 1 || prefix > 30) {
        snprintf(err, errlen, "bad prefix length /%d (1 to 30)", prefix);
        return -1;
    }
    int s = ctl_socket(err, errlen);
    if (s < 0)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    int rc = -1;
    set_sin(&ifr.ifr_addr, ip);
    if (ifr_ioctl(s, SIOCSIFADDR, &ifr, "SIOCSIFADDR", err, errlen) < 0)
        goto out;
    set_sin(&ifr.ifr_netmask, 0xffffffffu << (32 - prefix));
    if (ifr_ioctl(s, SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK", err, errlen) < 0)
        goto out;
    ifr.ifr_mtu = mtu > 0 ? mtu : 1500;
    if (ifr_ioctl(s, SIOCSIFMTU, &ifr, "SIOCSIFMTU", err, errlen) < 0)
        goto out;
    rc = up_on(s, name, err, errlen);
out:
    close(s);
    return rc;
}
