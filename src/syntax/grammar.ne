# The statement grammar. The block structure ({ … }) is assembled by parse.ts, which
# runs one small parse per statement: Earley keeps its whole chart until the end, so
# per-statement runs keep memory flat for policies with tens of thousands of classes.
# Actions stay thin: they tag what they saw and keep the tokens; lower.ts builds the AST.
# They must not read a token's text or value: parse.ts gives statements of the same shape
# (token types, keywords) the same tree, parsing only the first of each shape.
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
           | "include" %string                              {% tag('include') %}
           | "let" Name "=" Value                           {% tag('let') %}
           | "service" Name "=" ServiceItem ("," ServiceItem):*  {% tag('service') %}

Target    -> "ingress" Backend                              {% tag('target-ingress') %}
           | "tdma" TdmaBackend                             {% tag('target-tdma') %}
           | "features" NameList                            {% tag('target-features') %}

Interface -> "link" LinkAttr:+                              {% tag('link') %}
           | Figure:+                                       {% tag('figures') %}
           | Dir Backend:? "rate" Rate                      {% tag('tree') %}

Tree      -> ClassHeader                                    {% first %}
           | Leaf                                           {% first %}
           | "circuits" %string ("down" | "up")             {% tag('circuits') %}
           | "sites" %string                                {% tag('sites') %}
Class     -> ClassHeader                                    {% first %}
           | Match                                          {% first %}
           | Leaf                                           {% first %}
Tdma      -> "frame" Time                                   {% tag('frame') %}
           | "slot" Name SlotAttr:*                         {% tag('slot') %}
Slot      -> Match                                          {% first %}

ClassHeader -> "class" Name ClassAttr:*                     {% tag('class') %}
ClassAttr -> "rate" Rate                                    {% tag('rate') %}
           | "ceil" Rate                                    {% tag('ceil') %}
           | "prio" Num                                     {% tag('prio') %}
           | "quantum" Num                                  {% tag('quantum') %}
           | "default"                                      {% tag('default') %}
           | "fair" "hosts" "on" Addr ("by" ("src" | "dst")):?  {% tag('fair-hosts') %}
           | "fair" "flows"                                 {% tag('fair-flows') %}

# `leaf KIND ARGS…`: arguments are checked per kind in lower.ts (tc's own spelling).
Leaf      -> "leaf" Name LeafArg:*                          {% tag('leaf') %}
LeafArg   -> %word {% first %} | %quantity {% first %} | %number {% first %}

SlotAttr  -> "at" Time                                      {% tag('at') %}
           | "length" Time                                  {% tag('length') %}
           | "default"                                      {% tag('default') %}

LinkAttr  -> "down" Rate                                    {% tag('down') %}
           | "up" Rate                                      {% tag('up') %}
           | "overhead" Num                                 {% tag('overhead') %}
           | "mpu" Num                                      {% tag('mpu') %}
           | ("atm" | "ptm" | "ethernet")                   {% tag('linklayer') %}
           | "exact"                                        {% tag('exact') %}
           | Framing                                        {% tag('framing') %}
# Named framings (overheads as cake and sqm-scripts name them; values in backends).
Framing   -> ("pppoe-llc" | "pppoe-vcmux" | "pppoa-llc" | "pppoa-vcmux" | "bridged-llc" | "bridged-vcmux"
             | "ipoa-llc" | "ipoa-vcmux" | "pppoe-ptm" | "bridged-ptm" | "docsis" | "vlan")  {% (d) => d[0][0] %}

Figure    -> "delay" Time                                   {% tag('delay') %}
           | "jitter" Time                                  {% tag('jitter') %}
           | "price" Num                                    {% tag('price') %}

Match     -> "match" Criterion:+                            {% tag('match') %}
Criterion -> Proto                                          {% tag('proto') %}
           | ("sport" | "dport" | "port") Not PortList      {% tag('port') %}
           | ("src" | "dst" | "host") Not AddrList          {% tag('addr') %}
           | "dscp" DscpList                                {% tag('dscp') %}
           | ("mark" | "connmark") Num ("/" Num):?          {% tag('mark') %}
           | ("syn" | "ack" | "fin" | "rst")                {% tag('flag') %}
           | "len" Len                                      {% tag('len') %}
           | "mac" %addr                                    {% tag('mac') %}
           | "service" Name                                 {% tag('service') %}
Not       -> "!":?                                          {% first %}
Len       -> ("<" | ">") Num                                {% tag('len-cmp') %}
           | Port                                           {% tag('len-range') %}
ServiceItem -> Proto PortList                               {% tag('service-item') %}

Proto     -> "tcp" {% first %} | "udp" {% first %} | "icmp" {% first %}
Dir       -> "ingress" {% first %} | "egress" {% first %}
Backend   -> "ifb" {% first %} | "imq" {% first %}
TdmaBackend -> "taprio"                                     {% tag('taprio') %}
           | "module" Name                                  {% tag('module') %}

PortList  -> Port ("," Port):*                              {% list %}
Port      -> %number {% first %} | %range {% first %} | %word {% first %}
AddrList  -> Addr ("," Addr):*                              {% list %}
Addr      -> %ipv4 {% first %} | %addr {% first %} | %word {% first %}
DscpList  -> Dscp ("," Dscp):*                              {% list %}
Dscp      -> %word {% first %} | %number {% first %}
NameList  -> Name ("," Name):*                              {% list %}

Name      -> %word {% first %}
# A %word in a value position names a `let` value; lower.ts substitutes it.
Rate      -> %quantity {% first %} | %number {% first %} | %word {% first %}
Time      -> %quantity {% first %} | %number {% first %} | %word {% first %}
Num       -> %number {% first %} | %hex {% first %} | %word {% first %}
Value     -> %quantity {% first %} | %number {% first %} | %hex {% first %} | %ipv4 {% first %} | %addr {% first %} | %range {% first %}
