# The statement grammar. The block structure ({ … }) is assembled by parse.ts, which
# runs one small parse per statement: Earley keeps its whole chart until the end, so
# per-statement runs keep memory flat for policies with tens of thousands of classes.
# Actions stay thin: they build the nodes of nodes.ts, tokens by name; lower.ts builds the AST.
# They must not read a token's text or value: parse.ts gives statements of the same shape
# (token types, keywords) the same tree, parsing only the first of each shape.
@preprocessor typescript
@{%
import { lexer } from './lexer.js';
import { build, type Any } from './nodes.js';
import type * as N from './nodes.js';
const first = (d: any[]) => d[0];
const rest = (item: any, more: any[][]) => [item, ...more.map((x) => x[1])];
const list = ([item, more]: any[]) => rest(item, more);
/** A keyword and nothing else, or a keyword and its value: `default`, `rate 1mbit`. */
const keyword = (t: Any['t']) => ([kw]: any[]) => build<Any>({ t, kw } as any);
const setting = (t: Any['t']) => ([kw, value]: any[]) => build<Any>({ t, kw, value } as any);
%}
@lexer lexer

# One start symbol per block kind; parse.ts picks the one for the enclosing block.
# Each statement builds a node of src/syntax/nodes.ts (its tokens by name).
Top       -> "target"                                       {% keyword('target') %}
           | "interface" Name                               {% ([kw, name]) => build<N.Interface>({ t: 'interface', kw, name }) %}
           | "shared" Name Dir "on" NameList "rate" Rate    {% ([kw, name, dir, , members, , rate]) => build<N.Shared>({ t: 'shared', kw, name, dir, members, rate }) %}
           | "tdma" Name                                    {% ([kw, iface]) => build<N.Tdma>({ t: 'tdma', kw, iface }) %}
           | "include" %string                              {% ([kw, path]) => build<N.Include>({ t: 'include', kw, path }) %}
           | "let" Name "=" Value                           {% ([kw, name, , value]) => build<N.Let>({ t: 'let', kw, name, value }) %}
           | "service" Name "=" ServiceItem ("," ServiceItem):*  {% ([kw, name, , item, more]) => build<N.Service>({ t: 'service', kw, name, items: rest(item, more) }) %}

Target    -> "ingress" Backend                              {% ([kw, backend]) => build<N.TargetIngress>({ t: 'target-ingress', kw, backend }) %}
           | "tdma" TdmaBackend                             {% ([kw, backend]) => build<N.TargetTdma>({ t: 'target-tdma', kw, backend }) %}
           | "features" NameList                            {% ([kw, names]) => build<N.TargetFeatures>({ t: 'target-features', kw, names }) %}

Interface -> "link" LinkAttr:+                              {% ([kw, attrs]) => build<N.Link>({ t: 'link', kw, attrs }) %}
           | Figure:+                                       {% ([figures]) => build<N.Figures>({ t: 'figures', figures }) %}
           | Dir Backend:? "rate" Rate                      {% ([dir, backend, , rate]) => build<N.TreeHeader>({ t: 'tree', dir, backend, rate }) %}

Tree      -> ClassHeader                                    {% first %}
           | Leaf                                           {% first %}
           | "circuits" %string ("down" | "up")             {% ([kw, path, [dir]]) => build<N.Circuits>({ t: 'circuits', kw, path, dir }) %}
           | "sites" %string                                {% ([kw, path]) => build<N.Sites>({ t: 'sites', kw, path }) %}
Class     -> ClassHeader                                    {% first %}
           | Match                                          {% first %}
           | Leaf                                           {% first %}
Tdma      -> "frame" Time                                   {% setting('frame') %}
           | "slot" Name SlotAttr:*                         {% ([kw, name, attrs]) => build<N.Slot>({ t: 'slot', kw, name, attrs }) %}
Slot      -> Match                                          {% first %}

ClassHeader -> "class" Name ClassAttr:*                     {% ([kw, name, attrs]) => build<N.Class>({ t: 'class', kw, name, attrs }) %}
ClassAttr -> "rate" Rate                                    {% setting('rate') %}
           | "ceil" Rate                                    {% setting('ceil') %}
           | "prio" Num                                     {% setting('prio') %}
           | "quantum" Num                                  {% setting('quantum') %}
           | "default"                                      {% keyword('default') %}
           | "fair" "hosts" "on" Addr ("by" ("src" | "dst")):?  {% ([kw, , , prefix, by]) => build<N.FairHosts>({ t: 'fair-hosts', kw, prefix, by: by ? by[1][0] : null }) %}
           | "fair" "flows"                                 {% ([kw, flows]) => build<N.FairFlows>({ t: 'fair-flows', kw, flows }) %}

# `leaf KIND ARGS…`: arguments are checked per kind in lower.ts (tc's own spelling).
Leaf      -> "leaf" Name LeafArg:*                          {% ([kw, kind, args]) => build<N.Leaf>({ t: 'leaf', kw, kind, args }) %}
LeafArg   -> %word {% first %} | %quantity {% first %} | %number {% first %}

SlotAttr  -> "at" Time                                      {% setting('at') %}
           | "length" Time                                  {% setting('length') %}
           | "default"                                      {% keyword('default') %}

LinkAttr  -> "down" Rate                                    {% setting('down') %}
           | "up" Rate                                      {% setting('up') %}
           | "overhead" Num                                 {% setting('overhead') %}
           | "mpu" Num                                      {% setting('mpu') %}
           | ("atm" | "ptm" | "ethernet")                   {% ([[kw]]) => build<N.LinkAttr>({ t: 'linklayer', kw }) %}
           | "exact"                                        {% keyword('exact') %}
           | Framing                                        {% keyword('framing') %}
# Named framings (overheads as cake and sqm-scripts name them; values in backends).
Framing   -> ("pppoe-llc" | "pppoe-vcmux" | "pppoa-llc" | "pppoa-vcmux" | "bridged-llc" | "bridged-vcmux"
             | "ipoa-llc" | "ipoa-vcmux" | "pppoe-ptm" | "bridged-ptm" | "docsis" | "vlan")  {% (d) => d[0][0] %}

Figure    -> "delay" Time                                   {% setting('delay') %}
           | "jitter" Time                                  {% setting('jitter') %}
           | "price" Num                                    {% setting('price') %}

Match     -> "match" Criterion:+                            {% ([kw, criteria]) => build<N.Match>({ t: 'match', kw, criteria }) %}
Criterion -> Proto                                          {% ([proto]) => build<N.Proto>({ t: 'proto', proto }) %}
           | ("sport" | "dport" | "port") Not PortList      {% ([[kw], not, ports]) => build<N.PortCriterion>({ t: 'port', kw, not, ports }) %}
           | ("src" | "dst" | "host") Not AddrList          {% ([[kw], not, addrs]) => build<N.AddrCriterion>({ t: 'addr', kw, not, addrs }) %}
           | "dscp" DscpList                                {% ([kw, values]) => build<N.Dscp>({ t: 'dscp', kw, values }) %}
           | ("mark" | "connmark") Num ("/" Num):?          {% ([[kw], value, mask]) => build<N.Mark>({ t: 'mark', kw, value, mask: mask ? mask[1] : null }) %}
           | ("syn" | "ack" | "fin" | "rst")                {% ([[kw]]) => build<N.Criterion>({ t: 'flag', kw }) %}
           | "len" Len                                      {% ([kw, spec]) => build<N.Len>({ t: 'len', kw, spec }) %}
           | "mac" %addr                                    {% ([kw, addr]) => build<N.Mac>({ t: 'mac', kw, addr }) %}
           | "service" Name                                 {% ([kw, name]) => build<N.ServiceUse>({ t: 'service', kw, name }) %}
Not       -> "!":?                                          {% first %}
Len       -> ("<" | ">") Num                                {% ([[op], value]) => build<N.LenCompare>({ t: 'len-cmp', op, value }) %}
           | Port                                           {% ([range]) => build<N.LenRange>({ t: 'len-range', range }) %}
ServiceItem -> Proto PortList                               {% ([proto, ports]) => build<N.ServiceItem>({ t: 'service-item', proto, ports }) %}

Proto     -> "tcp" {% first %} | "udp" {% first %} | "icmp" {% first %}
Dir       -> "ingress" {% first %} | "egress" {% first %}
Backend   -> "ifb" {% first %} | "imq" {% first %}
TdmaBackend -> "taprio"                                     {% keyword('taprio') %}
           | "module" Name                                  {% ([kw, module]) => build<N.ModuleBackend>({ t: 'module', kw, module }) %}

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
