#!/usr/bin/python
# -*- coding: utf-8 -*-
# GPL-2.0-only (see the repository's LICENSE)
"""Apply or tear down a qospolicy policy on the managed router, through the qospolicy CLI."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qospolicy
short_description: Apply a qospolicy traffic-control policy, guarded by a confirmation window
version_added: "0.1.0"
description:
  - Runs the C(qospolicy) command line on the managed router. It plans first
    (C(qospolicy plan FILE -o PLAN.json)) and then applies exactly that saved plan, so the
    change made is the change shown.
  - In check mode only the plan is made; nothing on the router changes. With C(--diff) the
    plan's text is the diff.
  - C(changed) is true only when the plan was not empty. A second run against an unchanged
    policy reports C(changed=false).
  - A policy with errors fails the task with its diagnostics (C(file:line:col), code,
    message) from C(qospolicy check --json); a plan that cannot be applied (an interface the
    policy names does not exist) fails with the plan's error.
  - With I(confirm), the change stays only if C(qospolicy confirm) runs on the router within
    that many seconds; otherwise a detached watcher on the router restores the previous
    state by itself, even when the SSH session that applied it is gone.
    The result's C(pending_confirm) says whether a later task has to confirm.
  - qospolicy keeps its state (what the last apply owned, the lock, the pending
    confirmation) in C($QOSPOLICY_STATE_DIR), default C(/var/lib/qospolicy); set it with
    the task's C(environment) where needed.
options:
  src:
    description:
      - Path of the policy file B(on the managed router) (place it with
        M(ansible.builtin.template) or M(ansible.builtin.copy) first). It may use the
        language's C(let) and C(include).
    type: path
    required: true
  state:
    description:
      - C(present) applies the policy (C(qospolicy apply)); C(absent) removes exactly what
        the policy owns (C(qospolicy teardown)).
    type: str
    choices: [present, absent]
    default: present
  confirm:
    description:
      - Seconds within which C(qospolicy confirm) must run, or the change is reverted
        (C(qospolicy apply --confirm SECONDS)). 0 applies without a confirmation window.
      - Only with I(state=present).
    type: int
    default: 0
  target:
    description:
      - Override the policy's C(target { }) block (C(ifb), C(imq), C(taprio), C(sch_tdma),
        comma-separated).
    type: str
  plan_format:
    description:
      - How the returned C(plan) (and the diff) is written; C(markdown) is a pull-request
        comment (C(qospolicy plan --format markdown)).
    type: str
    choices: [text, markdown]
    default: text
  state_dir:
    description:
      - qospolicy's state directory on the router (C(QOSPOLICY_STATE_DIR)), which holds what
        the last apply owned, the lock and the pending confirmation. Needed only where several
        qospolicy instances share one filesystem; the task's C(environment) does the same.
      - Default C($QOSPOLICY_STATE_DIR), else C(/var/lib/qospolicy).
    type: path
  binary:
    description:
      - The qospolicy executable on the managed router (a name on C(PATH) or a path).
    type: str
    default: qospolicy
requirements:
  - qospolicy on the managed router (the Debian package or C(npm install -g qospolicy)); Node.js 20 or later
  - root on the managed router (C(become)) to change traffic control
author:
  - qospolicy contributors
notes:
  - Supports check mode and diff mode.
  - The plan is saved to a temporary file and applied with C(qospolicy apply PLAN.json);
    qospolicy refuses it if the router changed between the plan and the apply.
seealso:
  - name: docs/fleet.md
    description: Rolling a policy out across routers, reviewing it in a pull request.
    link: https://github.com/qospolicy/qospolicy/blob/main/docs/fleet.md
"""

EXAMPLES = r"""
- name: Place this router's policy
  ansible.builtin.template:
    src: site.pol.j2
    dest: /etc/qospolicy/site.pol
    mode: "0644"

- name: Apply it; revert by itself unless confirmed within 60 s
  qospolicy.fleet.qospolicy:
    src: /etc/qospolicy/site.pol
    confirm: 60
  register: qos

- name: The router still answers
  ansible.builtin.wait_for_connection:
    timeout: 20
  when: qos.pending_confirm

- name: Keep the change
  ansible.builtin.command: qospolicy confirm
  when: qos.pending_confirm

- name: Remove the policy's shaping
  qospolicy.fleet.qospolicy:
    src: /etc/qospolicy/site.pol
    state: absent

- name: A second router on the same machine keeps its state elsewhere
  qospolicy.fleet.qospolicy:
    src: /etc/qospolicy/lab.pol
  environment:
    QOSPOLICY_STATE_DIR: /var/lib/qospolicy-lab
"""

RETURN = r"""
plan:
  description: The plan as text or markdown (I(plan_format)) - what was, or in check mode would be, changed.
  returned: always
  type: str
  sample: "  ~ class wan0 1:43ed  (wan0 egress > voice)\n      rate: 1mbit -> 2mbit\n\nPlan: 0 to add, 1 to change, 0 to replace, 0 to remove.\n"
summary:
  description: How many kernel objects the plan adds, changes, replaces and removes.
  returned: when the policy could be planned
  type: dict
  sample: {"create": 0, "update": 1, "replace": 0, "delete": 0}
pending_confirm:
  description: True when a change was applied with I(confirm) and waits for C(qospolicy confirm).
  returned: always
  type: bool
  sample: true
diagnostics:
  description: The policy's diagnostics as C(qospolicy check --json) prints them (code, severity, message, span, hint).
  returned: when the policy has errors
  type: list
  elements: dict
stdout:
  description: Output of the last qospolicy command run.
  returned: always
  type: str
stderr:
  description: Error output of the last qospolicy command run.
  returned: always
  type: str
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


def location(d):
    """`site.pol:12:22: error QP2001: message` from one diagnostic object."""
    span = d.get("span") or {}
    start = span.get("start") or {}
    where = "%s:%s:%s: " % (span.get("file"), start.get("line"), start.get("col")) if span.get("file") else ""
    text = "%s%s %s: %s" % (where, d.get("severity", "error"), d.get("code", ""), d.get("message", ""))
    if d.get("hint"):
        text += " (hint: %s)" % d["hint"]
    return text


class Cli(object):
    def __init__(self, module):
        self.module = module
        self.binary = module.get_bin_path(module.params["binary"], required=False) or module.params["binary"]
        self.target = ["--target", module.params["target"]] if module.params["target"] else []
        self.last = ("", "")
        self.environ = {"NO_COLOR": "1"}
        if module.params["state_dir"]:
            self.environ["QOSPOLICY_STATE_DIR"] = module.params["state_dir"]

    def run(self, *args):
        # argv, never a shell; stdin is not a terminal, so qospolicy never asks.
        rc, out, err = self.module.run_command([self.binary] + list(args), environ_update=self.environ)
        self.last = (out, err)
        return rc, out, err

    def fail(self, msg, **extra):
        out, err = self.last
        self.module.fail_json(msg=msg, stdout=out, stderr=err, pending_confirm=False, plan=extra.pop("plan", ""), **extra)

    def fail_policy(self, src, plan_err, verb="apply"):
        """The plan failed: the policy's own diagnostics where it has errors, else the plan's error."""
        out, err = self.last
        rc, check_out, _ = self.run("check", "--json", src, *self.target)
        self.last = (out, err)
        try:
            diagnostics = json.loads(check_out) if check_out.strip() else []
        except ValueError:
            diagnostics = []
        errors = [d for d in diagnostics if d.get("severity") == "error"]
        if rc != 0 and errors:
            self.fail("%s has errors:\n%s" % (src, "\n".join(location(d) for d in errors)), diagnostics=diagnostics)
        lines = [line for line in plan_err.splitlines() if line.startswith("error ")] or plan_err.strip().splitlines()[-1:]
        self.fail("qospolicy cannot %s %s: %s" % (verb, src, "\n".join(lines)), diagnostics=diagnostics, plan=out)


def present(module, cli, src):
    work = tempfile.mkdtemp(prefix="qospolicy-ansible-")
    try:
        saved = os.path.join(work, "plan.json")
        rc, text, err = cli.run("plan", src, "--format", module.params["plan_format"], "-o", saved, *cli.target)
        if rc != 0:
            cli.fail_policy(src, err)
        with open(saved) as f:
            plan = json.load(f)
        changed = len(plan.get("changes", [])) > 0
        result = dict(changed=changed, plan=text, summary=plan.get("summary"), pending_confirm=False, stdout=text, stderr=err)
        if module._diff and changed:
            result["diff"] = dict(prepared=text)
        if module.check_mode or not changed:
            return result
        args = ["apply", saved]
        if module.params["confirm"] > 0:
            args += ["--confirm", str(module.params["confirm"])]
        rc, out, err = cli.run(*args)
        if rc != 0:
            lines = [line for line in err.splitlines() if line.startswith("error ")]
            cli.fail("qospolicy apply failed: %s" % ("\n".join(lines) or err.strip()), plan=text)
        result.update(stdout=out, stderr=err, pending_confirm=module.params["confirm"] > 0)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def absent(module, cli, src):
    # Without --yes and off a terminal, teardown prints its plan and refuses (QP4010) when
    # there is something to remove: that refusal is check mode's plan.
    args = ["teardown", src] + cli.target
    rc, text, err = cli.run(*(args if module.check_mode else args + ["--yes"]))
    if rc != 0 and not (module.check_mode and "QP4010" in err):
        cli.fail_policy(src, err, "tear down")
    nothing = "Nothing of this policy is on the system." in text
    changed = not nothing
    result = dict(changed=changed, plan=text, pending_confirm=False, stdout=text, stderr=err)
    if module._diff and changed:
        result["diff"] = dict(prepared=text)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            confirm=dict(type="int", default=0),
            target=dict(type="str"),
            plan_format=dict(type="str", choices=["text", "markdown"], default="text"),
            state_dir=dict(type="path"),
            binary=dict(type="str", default="qospolicy"),
        ),
        supports_check_mode=True,
    )
    if module.params["confirm"] < 0:
        module.fail_json(msg="confirm is a number of seconds (0 for none), not %d" % module.params["confirm"])
    if module.params["confirm"] and module.params["state"] == "absent":
        module.fail_json(msg="confirm applies to state=present only")
    src = module.params["src"]
    if not os.path.isfile(src):
        module.fail_json(msg="%s: no such policy file on %s" % (src, os.uname()[1]))
    cli = Cli(module)
    result = (present if module.params["state"] == "present" else absent)(module, cli, src)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
