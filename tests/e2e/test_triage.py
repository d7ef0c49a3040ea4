"""Guided triage through a real terminal (pexpect): answers by number and by word, the right
commands run in-process, and every path ends with a next step (a ticket, or the number to call
with the checklist)."""
import json

import pexpect

import chtest


def spawn(env, *args):
    e = dict(env, TERM="dumb")
    return pexpect.spawn(chtest.CARHELP, list(args), env=e, encoding="utf-8", timeout=30,
                         dimensions=(60, 200))


def tickets(carhelp):
    r = carhelp("--json", "ticket", "list")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    return doc["items"] if isinstance(doc, dict) else doc


def test_vehicle_fault_by_number_ends_with_a_ticket_and_its_pass(logged_in):
    child = spawn(logged_in.env, "triage")
    child.expect("What is the problem")
    child.sendline("2")                        # vehicle, by number
    child.expect("Vehicle: what is wrong")
    child.sendline("fault")                    # by word
    child.expect("plate")
    child.sendline("京AD12345")
    child.expect("Describe the problem")
    child.sendline("won't start, dashboard dead")
    child.expect(r"your ticket is (tkt_\w+)")
    tid = child.match.group(1)
    child.expect("QR pass")
    child.sendline("no")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    t = [t for t in tickets(logged_in) if t["id"] == tid]
    assert t and t[0]["category"] == "vehicle"
    assert "won't start" in t[0]["message"]


def test_vehicle_wont_open_by_words_unlocks_or_files_a_ticket(logged_in):
    before = {t["id"] for t in tickets(logged_in)}
    child = spawn(logged_in.env, "triage")
    child.expect("What is the problem")
    child.sendline("car")                      # a word for "vehicle"
    child.expect("what is wrong")
    child.sendline("won't open")
    child.expect("plate")
    child.sendline("京ZZ99999")               # not the customer's car: unlock fails
    i = child.expect([r"your ticket is (tkt_\w+)", "the car is open"])
    assert i == 0
    tid = child.match.group(1)
    child.expect("QR pass")
    child.sendline("1")                        # yes: the pass is shown
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert tid not in before
    t = [t for t in tickets(logged_in) if t["id"] == tid][0]
    assert t["category"] == "vehicle" and "won't open" in t["message"]


def test_app_problem_from_a_bare_carhelp_on_a_terminal(logged_in):
    child = spawn(logged_in.env)               # no command: a TTY starts the triage
    child.expect("What is the problem")
    child.sendline("nonsense")
    child.expect("Please answer with a number")
    child.sendline("5")
    child.expect("Describe the problem")
    child.sendline("the app crashes on the payment page")
    child.expect(r"your ticket is (tkt_\w+)")
    child.expect("QR pass")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_not_logged_in_ends_with_the_number_and_the_checklist(carhelp):
    child = spawn(carhelp.env, "triage")
    child.expect("What is the problem")
    child.sendline("billing")
    child.expect("order ID")
    child.sendline("ord_20261101_0001")
    child.expect("Before you call")            # the billing checklist, then the number
    child.expect("call support at 400-000-1234")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 4


def test_triage_inside_the_shell(logged_in):
    child = spawn(logged_in.env, "shell")
    child.expect("> ")
    child.sendline("triage")
    child.expect("What is the problem")
    child.sendline("account")
    child.expect("Account: what do you need")
    child.sendline("else")
    child.expect("Describe the problem")
    child.sendline("I cannot change my phone number")
    child.expect(r"your ticket is (tkt_\w+)")
    child.expect("QR pass")
    child.sendline("no")
    child.expect(r"carhelp \(default: acc_1001\)> ")
    chtest.wait_for_line_editor(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_bare_carhelp_off_a_terminal_still_prints_usage(carhelp):
    r = carhelp()
    assert r.returncode == 2
    assert "Usage" in r.stderr
