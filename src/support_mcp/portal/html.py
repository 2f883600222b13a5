"""HTML for the internal portal: small functions, every value escaped (customer text is hostile)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from support_mcp.domain.models import Plan, Suggestion, Ticket
from support_mcp.services.context import TimelineEntry

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap;word-break:break-word}
.intern{border-left:3px solid #d90} .public{border-left:3px solid #080} .event{color:#06c}
form.inline{display:inline} .muted{color:#777} nav a{margin-right:1rem}
"""


def page(title: str, body: str, *, identity: str | None = None, csrf: str | None = None) -> str:
    who = f'<span class="muted">angemeldet als {escape(identity)}</span>' if identity else ""
    meta = f'<meta name="csrf" content="{escape(csrf)}">' if csrf else ""
    return (
        f"<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">{meta}"
        f"<title>{escape(title)} · Support MCP intern</title><style>{_STYLE}</style></head><body>"
        f'<nav><a href="/intern">Übersicht</a><a href="/intern/suggestions">Wissens-Vorschläge</a>'
        f'<a href="/intern/plans">Reparaturpläne</a>{who}</nav>'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def login_form(error: str | None = None) -> str:
    msg = f"<p style='color:#b00'>{escape(error)}</p>" if error else ""
    return page("Anmeldung", msg + """
<form method="post" action="/intern/login">
 <label>Zugangstoken <input type="password" name="token" autocomplete="off" required></label>
 <button type="submit">Anmelden</button>
</form>""")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def tickets_table(tickets: Sequence[Ticket]) -> str:
    return _table(
        ("Ticket", "Betreff", "Status", "Priorität", "assigned_agent", "Eskalation"),
        ((f'<a href="/intern/tickets/{t.id}">{str(t.id)[:8]}</a>', escape(t.subject), escape(t.status),
          escape(t.priority), escape(t.assigned_agent or "—"), escape(" → ".join(t.escalation_path) or "—"))
         for t in tickets),
    )


def timeline(entries: Sequence[TimelineEntry]) -> str:
    parts = []
    for e in entries:
        when = escape(e.at.strftime("%Y-%m-%d %H:%M:%S"))
        if e.kind == "event":
            payload = f' <code class="muted">{escape(e.body[:300])}</code>' if e.body else ""
            parts.append(f'<p class="event">{when} ⚡ {escape(e.title)} <span class="muted">{escape(e.who)}</span>'
                         f'{payload}</p>')
            continue
        css = "intern" if e.internal_only else "public"
        tags = f' <span class="muted">[{escape(", ".join(e.tags))}]</span>' if e.tags else ""
        parts.append(f'<div class="{css}"><p>{when} ✉ <b>{escape(e.who)}</b> '
                     f'({"intern" if e.internal_only else "öffentlich"}){tags}</p><pre>{escape(e.body)}</pre></div>')
    return "".join(parts)


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(token)}">'


def suggestions_table(suggestions: Sequence[Suggestion], csrf: str, *, can_review: bool) -> str:
    rows = []
    for s in suggestions:
        actions = "—"
        if can_review and s.status == "proposed":
            actions = "".join(
                f'<form class="inline" method="post" action="/intern/suggestions/{s.id}/{verb}">{csrf_field(csrf)}'
                f'<input name="reviewer" placeholder="Ihr Name" required> <button>{label}</button></form> '
                for verb, label in (("accept", "Annehmen"), ("reject", "Ablehnen"))
            )
        target = " › ".join(x for x in (s.target_document, s.target_section) if x) or "—"
        rows.append((escape(s.title), f"<pre>{escape(s.body)}</pre>", escape(target), escape(s.agent or "—"),
                     escape(s.status) + (f" ({escape(s.reviewer)})" if s.reviewer else ""), actions))
    return _table(("Titel", "Vorschlag", "Ziel", "Agent", "Status", "Aktion"), rows)


def plans_table(plans: Sequence[Plan]) -> str:
    return _table(
        ("Plan", "Ticket", "Agent", "Reparatur", "Status", "Hash"),
        ((f'<a href="/intern/plans/{p.id}">{str(p.id)[:8]}</a>', f'<a href="/intern/tickets/{p.ticket_id}">'
          f"{str(p.ticket_id)[:8]}</a>", escape(p.agent), escape(p.title), escape(p.status),
          f"<code>{escape((p.plan_hash or '')[:16])}</code>") for p in plans),
    )


def plan_detail(plan: Plan, csrf: str, *, can_approve: bool) -> str:
    steps = "".join(f"<li><code>[{escape(s['kind'])} @ {escape(s['target'])}]</code> <pre>{escape(s['display'])}</pre></li>"
                    for s in plan.steps)
    out = [f"<p>Status: <b>{escape(plan.status)}</b> · Agent {escape(plan.agent)} · "
           f'Ticket <a href="/intern/tickets/{plan.ticket_id}">{plan.ticket_id}</a></p>',
           f"<p>Plan-Hash: <code>{escape(plan.plan_hash or '—')}</code></p>", f"<ol>{steps}</ol>"]
    if plan.dry_run_output:
        out.append(f"<h2>Trockentest ({'ok' if plan.dry_run_ok else 'fehlgeschlagen'})</h2>"
                   f"<pre>{escape(plan.dry_run_output)}</pre>")
    if can_approve and plan.status == "dry_run" and plan.dry_run_ok and plan.plan_hash:
        out.append(
            f'<h2>Freigabe</h2><form method="post" action="/intern/plans/{plan.id}/approve">{csrf_field(csrf)}'
            f'<input type="hidden" name="plan_hash" value="{escape(plan.plan_hash)}">'
            '<label>Ihr Name <input name="approver" required></label> '
            '<label>gültig (Minuten) <input name="ttl" type="number" value="30" min="1" max="1440"></label> '
            "<button>Genau diesen Plan freigeben</button></form>")
    if plan.apply_output:
        out.append(f"<h2>Ausführung</h2><pre>{escape(plan.apply_output)}</pre>")
    return "".join(out)
