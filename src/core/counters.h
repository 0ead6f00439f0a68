/*
 * counters.h — Linux's SNMP MIB counters (/proc/net/snmp "Tcp:" and
 * /proc/net/netstat "TcpExt:"), same names, same meanings. One X-macro list:
 * the enum, the names and the groups all come from it.
 */
#ifndef TS_COUNTERS_H
#define TS_COUNTERS_H

#define TS_MIB_LIST(X)                                                        \
    X(Tcp, ActiveOpens)        /* CLOSED -> SYN_SENT */                        \
    X(Tcp, PassiveOpens)       /* LISTEN -> SYN_RECEIVED (request created) */  \
    X(Tcp, AttemptFails)       /* SYN_SENT/SYN_RECV -> CLOSED, SYN_RECV -> LISTEN */ \
    X(Tcp, EstabResets)        /* ESTABLISHED/CLOSE_WAIT -> CLOSED, any cause */ \
    X(Tcp, CurrEstab)          /* gauge: ESTABLISHED + CLOSE_WAIT */           \
    X(Tcp, InSegs)                                                            \
    X(Tcp, OutSegs)            /* excluding retransmissions, as Linux */       \
    X(Tcp, RetransSegs)                                                       \
    X(Tcp, InErrs)             /* malformed, bad checksum */                   \
    X(Tcp, InCsumErrors)                                                      \
    X(Tcp, OutRsts)                                                           \
    X(TcpExt, EmbryonicRsts)                                                  \
    X(TcpExt, TW)              /* TIME_WAIT (or FIN_WAIT_2 > 4 s) entered */   \
    X(TcpExt, TWRecycled)      /* TIME_WAIT reused by connect (tw_reuse) */    \
    X(TcpExt, TWKilled)        /* FIN_WAIT_2 minisocket entered, <= 4 s */     \
    X(TcpExt, PAWSEstab)                                                      \
    X(TcpExt, DelayedACKs)                                                    \
    X(TcpExt, ListenOverflows)                                                \
    X(TcpExt, ListenDrops)                                                    \
    X(TcpExt, TCPTimeWaitOverflow)                                            \
    X(TcpExt, TCPAbortOnData)                                                 \
    X(TcpExt, TCPAbortOnClose)                                                \
    X(TcpExt, TCPAbortOnMemory)                                               \
    X(TcpExt, TCPAbortOnTimeout)                                              \
    X(TcpExt, TCPAbortOnLinger)                                               \
    X(TcpExt, TCPAbortFailed)                                                 \
    X(TcpExt, TCPTimeouts)                                                    \
    X(TcpExt, TCPSynRetrans)                                                  \
    X(TcpExt, TCPKeepAlive)                                                   \
    X(TcpExt, TCPChallengeACK)                                                \
    X(TcpExt, TCPSYNChallenge)                                                \
    X(TcpExt, TCPACKSkippedSynRecv)                                           \
    X(TcpExt, TCPACKSkippedPAWS)                                              \
    X(TcpExt, TCPACKSkippedSeq)                                               \
    X(TcpExt, TCPACKSkippedFinWait2)                                          \
    X(TcpExt, TCPACKSkippedTimeWait)                                          \
    X(TcpExt, TCPACKSkippedChallenge)                                         \
    X(TcpExt, TCPFastRetrans)                                                 \
    X(TcpExt, TCPLossProbes)                                                  \
    X(TcpExt, TCPOFODrop)                                                     \
    X(TcpExt, TCPRcvQDrop)                                                    \
    X(TcpExt, TCPReqQFullDrop)                                                \
    X(TcpExt, TCPReqQFullDoCookies)                                           \
    X(TcpExt, SyncookiesSent)                                                 \
    X(TcpExt, SyncookiesRecv)                                                 \
    X(TcpExt, SyncookiesFailed)                                               \
    X(TcpExt, TCPOrphanCount)  /* gauge (Linux: sockstat "orphan") */          \
    X(TcpExt, TCPTimeWaitCount) /* gauge (Linux: sockstat "tw") */             \
    X(TcpExt, TCPStateTransitions) /* tcpstate: every checked transition */    \
    X(TcpExt, TCPStateDrops)   /* tcpstate: every dropped segment */

#define TS_MIB_ENUM(g, n) TS_MIB_##n,
enum ts_mib { TS_MIB_LIST(TS_MIB_ENUM) TS_MIB_MAX };
#undef TS_MIB_ENUM

#endif
