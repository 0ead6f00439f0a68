/*
 * diagram.h — the TCP state machine tcpstate obeys, drawn from its
 * transition table: text grouped by state, Graphviz (dot) source laid out
 * like RFC 9293's figure, or one JSON document.
 */
#ifndef TS_DRV_DIAGRAM_H
#define TS_DRV_DIAGRAM_H

#include <stdio.h>

void ts_diagram_text(FILE *out);
/* Node names are the state names, plus CLOSED_END (labelled CLOSED) for
 * the connection's end; each edge's label holds one line per table row. */
void ts_diagram_dot(FILE *out);
/* {"states": [...], "transitions": [{"from", "to", "cause", "event", "action"}, ...]} */
void ts_diagram_json(FILE *out);

#endif
