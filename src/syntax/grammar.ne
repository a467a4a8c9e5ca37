# The statement grammar. The block structure ({ … }) is assembled by parse.ts, which
# runs one small parse per statement: Earley keeps its whole chart until the end, so
# per-statement runs keep memory flat for policies with tens of thousands of classes.
# Actions stay thin: they tag what they saw and keep the tokens; lower.ts builds the AST.
@preprocessor typescript
@{%
import { lexer } from './lexer.js';
const tag = (t: string) => (d: any[]) => ({ t, d });
const first = (d: any[]) => d[0];
const list = (d: any[]) => [d[0], ...d[1].map((x: any[]) => x[1])];
%}
@lexer lexer

# One start symbol per block kind; parse.ts picks the one for the enclosing block.
Top       -> "target"                                       {% tag('target') %}
           | "interface" Name                               {% tag('interface') %}
           | "shared" Name Dir "on" NameList "rate" Rate    {% tag('shared') %}
           | "tdma" Name                                    {% tag('tdma') %}

Target    -> "ingress" Backend                              {% tag('target-ingress') %}
           | "tdma" TdmaBackend                             {% tag('target-tdma') %}

Interface -> "link" LinkAttr:+                              {% tag('link') %}
           | Figure:+                                       {% tag('figures') %}
           | Dir Backend:? "rate" Rate                      {% tag('tree') %}

Tree      -> ClassHeader                                    {% first %}
Class     -> ClassHeader                                    {% first %}
           | Match                                          {% first %}
Tdma      -> "frame" Time                                   {% tag('frame') %}
           | "slot" Name SlotAttr:*                         {% tag('slot') %}
Slot      -> Match                                          {% first %}

ClassHeader -> "class" Name ClassAttr:*                     {% tag('class') %}
ClassAttr -> "rate" Rate                                    {% tag('rate') %}
           | "ceil" Rate                                    {% tag('ceil') %}
           | "prio" Num                                     {% tag('prio') %}
           | "quantum" Num                                  {% tag('quantum') %}
           | "default"                                      {% tag('default') %}

SlotAttr  -> "at" Time                                      {% tag('at') %}
           | "length" Time                                  {% tag('length') %}
           | "default"                                      {% tag('default') %}

LinkAttr  -> "down" Rate                                    {% tag('down') %}
           | "up" Rate                                      {% tag('up') %}

Figure    -> "delay" Time                                   {% tag('delay') %}
           | "jitter" Time                                  {% tag('jitter') %}
           | "price" Num                                    {% tag('price') %}

Match     -> "match" Criterion:+                            {% tag('match') %}
Criterion -> Proto                                          {% tag('proto') %}
           | ("sport" | "dport") PortList                   {% tag('port') %}
           | ("src" | "dst") AddrList                       {% tag('addr') %}
           | "dscp" DscpList                                {% tag('dscp') %}
           | "mark" Num ("/" Num):?                         {% tag('mark') %}

Proto     -> "tcp" {% first %} | "udp" {% first %} | "icmp" {% first %}
Dir       -> "ingress" {% first %} | "egress" {% first %}
Backend   -> "ifb" {% first %} | "imq" {% first %}
TdmaBackend -> "taprio"                                     {% tag('taprio') %}
           | "module" Name                                  {% tag('module') %}

PortList  -> Port ("," Port):*                              {% list %}
Port      -> %number {% first %} | %range {% first %}
AddrList  -> Addr ("," Addr):*                              {% list %}
Addr      -> %ipv4 {% first %} | %addr {% first %}
DscpList  -> Dscp ("," Dscp):*                              {% list %}
Dscp      -> %word {% first %} | %number {% first %}
NameList  -> Name ("," Name):*                              {% list %}

Name      -> %word {% first %}
Rate      -> %quantity {% first %} | %number {% first %}
Time      -> %quantity {% first %} | %number {% first %}
Num       -> %number {% first %} | %hex {% first %}
