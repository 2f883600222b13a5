"""Benchmark the knowledge search against a plain BM25 baseline.

    python benchmarks/knowledge_search.py [--dsn DSN] [--sections 10000,100000] [--queries 400]

Without --dsn a database `support_mcp_bench_<random>` is created on the local PostgreSQL
(postgresql://postgres@127.0.0.1:5432/postgres), migrated, and dropped at the end.

1. Quality: Recall@3 and MRR@10 on the labelled set `tests/fixtures/knowledge/queries.yaml`,
   ours (PostgreSQL full text, concepts, synonyms) vs rank-bm25 over the same playbook sections
   (lowercased `\\w+` tokens of breadcrumb + body).
2. At each index size (default 10,000 and 100,000 sections: the playbook plus synthetic
   German/English runbooks built from the same support vocabulary and the playbook's own
   headings): p50/p99 of one search, and Recall@3 over everything returned, ours and BM25 over
   the same sections in the same run; and the same for what a run cites (services.runner, step
   "knowledge"): the playbook's two best sections, ranked with the playbook's own word
   frequencies, then the best other section (`consultation`), i.e. two searches.

How the search gets there (store/knowledge.py): `knowledge_lexemes` holds each lexeme's document
frequency, kept exact by triggers (migration 005), so a concept's idf costs index seeks, not a
count over the GIN index; the rarest concepts select candidates through the GIN index until their
frequencies add up to 1,500 rows, and a round reads at most 2,000 rows (those with the word in
their breadcrumb first, through the breadcrumb's own GIN index, migration 007); the sections of
documents whose front matter gives them an authority other than 1 (the playbook: 3) are ranked
besides; every candidate gets `Σ idf` of the concepts it contains, and only the best 64 get the
full field-weighted score (× the document's authority) and a snippet.

What the bounds cost is measured, not assumed: the same queries go through
`KnowledgeStore(exhaustive=True)`, which ranks every match; the table gives its latency and the
share of its top 5 the bounded search returns. And Recall@3 is given again with the playbook's
authority set to 1, the same index, the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import yaml
from rank_bm25 import BM25Okapi
from report import emit  # benchmarks/report.py, beside this script (sys.path[0])

from support_mcp.services.knowledge import PLAYBOOK_KEY, KnowledgeService, consultation
from support_mcp.store.database import Database
from support_mcp.store.knowledge import KnowledgeSection, KnowledgeStore
from support_mcp.store.migrate import migrate

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
QUERIES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "knowledge" / "queries.yaml"
_TOKEN = re.compile(r"\w+")

# Building blocks of the synthetic runbooks: support vocabulary in both languages, so the
# synthetic sections compete with the playbook for the same words.
_TOPICS = [
    "Caddy", "Nginx", "PM2", "Supabase", "Postgres", "RLS", "Edge Functions", "Next.js", "CSP", "Webhook",
    "Stripe", "WhatsApp API", "Redis", "Cron", "S3 Bucket", "DNS", "TLS", "Sentry", "Docker", "Firewall",
    "Backup", "Auth", "OTP", "Session", "Deployment", "Migration", "Build", "Queue", "Rate Limit", "CDN",
]
_DE = [
    "Prüfen, ob {t} nach dem letzten Deployment korrekt antwortet.",
    "Bei Fehlern in {t} zuerst die Logs der letzten 30 Minuten lesen.",
    "Die Konfiguration von {t} liegt unter /etc/{slug}/config und wird mit Backup geändert.",
    "Wenn {t} nicht erreichbar ist, Netzwerk und Firewall-Regeln kontrollieren.",
    "Ergebnisse mit Zeitstempel in der internen Notiz dokumentieren.",
    "Ein Neustart von {t} ist nur nach Freigabe durch den Tier-2 Lead erlaubt.",
    "Kunden melden Zeitüberschreitungen, wenn {t} überlastet ist.",
    "Migrationen für {t} werden vorher im Trockentest mit ROLLBACK geprüft.",
]
_EN = [
    "Check that {t} responds after the last deployment.",
    "When {t} fails, read the logs of the last 30 minutes first.",
    "The {t} configuration lives in /etc/{slug}/config; always take a backup before editing.",
    "If {t} is unreachable, check the network and firewall rules.",
    "Record the results with a timestamp in the internal note.",
    "Restarting {t} requires approval by the Tier-2 lead.",
    "Customers report timeouts when {t} is overloaded.",
    "Run migrations for {t} as a dry run inside a ROLLBACK block first.",
]
_HEADINGS_DE = ["Diagnose", "Reparatur", "Ursachen", "Bekannte Fehler", "Überwachung", "Kommunikation"]
_HEADINGS_EN = ["Diagnosis", "Repair", "Root causes", "Known issues", "Monitoring", "Communication"]


def synthetic_documents(folder: Path, sections: int, seed: int = 7) -> int:
    """Write runbooks with 20 sections each until `sections` are reached; returns files written."""
    rng = random.Random(seed)
    per_doc, written = 20, 0
    for number in range(sections // per_doc):
        german = number % 2 == 0
        topic = rng.choice(_TOPICS)
        lines = [f"---\ntitle: {topic} Runbook {number}\nversion: {number}\nlanguage: {'de' if german else 'en'}\n---"]
        for chapter in range(per_doc):
            sub = rng.choice(_TOPICS)
            heading = rng.choice(_HEADINGS_DE if german else _HEADINGS_EN)
            lines.append(f"{'##' if chapter % 4 == 0 else '###'} {chapter + 1}. {heading} {sub}")
            templates = _DE if german else _EN
            for _ in range(rng.randint(3, 8)):
                lines.append("- " + rng.choice(templates).format(t=rng.choice([topic, sub]), slug=sub.lower()))
            if rng.random() < 0.3:
                lines.append(f"```bash\n# {sub.lower()} status\nsystemctl status {sub.lower()}\n```")
        (folder / f"runbook_{number:04d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        written += 1
    return written


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class Bm25Baseline:
    """rank-bm25 over the same sections: lowercase word tokens, no stemming, no synonyms."""

    def __init__(self, sections: list[KnowledgeSection]) -> None:
        self.sections = sections
        self.index = BM25Okapi([tokens(f"{s.breadcrumb} {s.heading} {s.body}") for s in sections])

    def search(self, query: str, limit: int = 10) -> list[KnowledgeSection]:
        scores = self.index.get_scores(tokens(query))
        best = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)[:limit]
        return [self.sections[i] for i in best if scores[i] > 0]


def quality(ranked: list[list[str]], labels: list[set[str]]) -> tuple[float, float]:
    """Recall@3 (a relevant anchor in the top 3) and MRR@10."""
    recall = sum(1 for got, want in zip(ranked, labels, strict=True) if want & set(got[:3]))
    mrr = sum(next((1 / (i + 1) for i, a in enumerate(got[:10]) if a in want), 0.0)
              for got, want in zip(ranked, labels, strict=True))
    return recall / len(labels), mrr / len(labels)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def strict_recall(ranked: list[list[tuple[str, str]]], labels: list[set[str]]) -> float:
    """Recall@3 over everything returned: a playbook section the label names among the top 3."""
    hits = sum(1 for got, want in zip(ranked, labels, strict=True)
               if any(doc == PLAYBOOK_KEY and anchor in want for doc, anchor in got[:3]))
    return hits / len(labels)


async def run(dsn: str, sizes: list[int], searches: int) -> None:
    labelled = yaml.safe_load(QUERIES.read_text("utf-8"))["queries"]
    texts, labels = [q["query"] for q in labelled], [set(q["relevant"]) for q in labelled]
    db = Database(dsn, min_size=1, max_size=2)
    await db.open()
    rows: list[tuple[int, str, float, float, float, float]] = []
    agreement: dict[int, tuple[float, float]] = {}  # size → (mean top-5 overlap, mean top-5 score share)
    try:
        await migrate(db)
        store = KnowledgeStore(db)
        service = KnowledgeService(store)
        exact = KnowledgeService(KnowledgeStore(db, exhaustive=True))  # every match ranked: the yardstick
        await service.sync()

        # 1. Quality on the playbook alone.
        ours = [[h.anchor for h in await service.search(q, document=PLAYBOOK_KEY, limit=10)] for q in texts]
        playbook = await service.list_sections(PLAYBOOK_KEY)
        playbook_authority = next(d.authority for d in await service.list_documents() if d.key == PLAYBOOK_KEY)
        bm25_small = Bm25Baseline(playbook)
        theirs = [[s.anchor for s in bm25_small.search(q)] for q in texts]
        ours_q, theirs_q = quality(ours, labels), quality(theirs, labels)

        # 2. Latency and quality with synthetic runbooks beside the playbook, at each size.
        with tempfile.TemporaryDirectory(prefix="support_mcp_bench_") as tmp:
            for size in sizes:
                for old in Path(tmp).glob("*.md"):
                    old.unlink()
                files = synthetic_documents(Path(tmp), size - len(playbook))
                started = time.perf_counter()
                await service.sync([str(Path(tmp) / "*.md")])
                ingest_s = time.perf_counter() - started
                everything = await service.list_sections()
                workload = [texts[i % len(texts)] for i in range(searches)]
                for query in workload[:20]:  # warm the pool and the caches
                    await service.search(query)
                ours_ms: list[float] = []
                for query in workload:
                    started = time.perf_counter()
                    await service.search(query, limit=5)
                    ours_ms.append((time.perf_counter() - started) * 1000)
                ranked = [[(h.document, h.anchor) for h in await service.search(q, limit=10)] for q in texts]
                # The bound's price: the same queries ranked over every match, no budget, no cap.
                exact_ms: list[float] = []
                overlap = score_share = 0.0
                for query in texts:
                    started = time.perf_counter()
                    full = await exact.search(query, limit=5)
                    exact_ms.append((time.perf_counter() - started) * 1000)
                    bounded = await service.search(query, limit=5)
                    overlap += len({h.section_id for h in full} & {h.section_id for h in bounded}) / max(1, len(full))
                    # Sections of equal score are interchangeable (the runbooks repeat themselves):
                    # the bounded top 5's summed score against the exact one's says what was lost.
                    score_share += sum(h.rank for h in bounded) / max(1e-9, sum(h.rank for h in full))
                # The playbook's authority (front matter, migration 007) against none, same index.
                async with db.connection() as conn:
                    await conn.execute("update knowledge_documents set authority = 1 where key = %s", (PLAYBOOK_KEY,))
                try:
                    plain_ranked = [[(h.document, h.anchor) for h in await service.search(q, limit=10)] for q in texts]
                finally:
                    async with db.connection() as conn:
                        await conn.execute("update knowledge_documents set authority = %s where key = %s",
                                           (playbook_authority, PLAYBOOK_KEY))
                # What a run cites (services.runner, step "knowledge"): two searches, merged.
                consult_ms: list[float] = []
                consulted: list[list[tuple[str, str]]] = []
                for query in texts * max(1, searches // len(texts)):
                    started = time.perf_counter()
                    own = await service.search(query, document=PLAYBOOK_KEY, limit=2, plain=True)
                    rest = await service.search(query, limit=3, plain=True)
                    cited = consultation(own, rest, 3)
                    consult_ms.append((time.perf_counter() - started) * 1000)
                    if len(consulted) < len(texts):
                        consulted.append([(h.document, h.anchor) for h in cited])
                bm25_big = Bm25Baseline(everything)
                bm25_ms: list[float] = []
                bm25_ranked: list[list[tuple[str, str]]] = []
                for query in texts:  # rank-bm25 scores every section in Python
                    started = time.perf_counter()
                    found = bm25_big.search(query, limit=10)
                    bm25_ms.append((time.perf_counter() - started) * 1000)
                    bm25_ranked.append([(s.document_key, s.anchor) for s in found])
                print(f"\n{len(everything)} sections ({files} synthetic files, ingest {ingest_s:.1f}s)")
                rows.append((len(everything), "ours", percentile(ours_ms, 50), percentile(ours_ms, 99),
                             strict_recall(ranked, labels), float(len(ours_ms))))
                rows.append((len(everything), "ours, every match ranked", percentile(exact_ms, 50),
                             percentile(exact_ms, 99), overlap / len(texts), float(len(exact_ms))))
                rows.append((len(everything), "ours, playbook authority 1", 0.0, 0.0,
                             strict_recall(plain_ranked, labels), float(len(texts))))
                agreement[len(everything)] = (overlap / len(texts), score_share / len(texts))
                rows.append((len(everything), "run's consultation (2 searches)", percentile(consult_ms, 50),
                             percentile(consult_ms, 99), strict_recall(consulted, labels), float(len(consult_ms))))
                rows.append((len(everything), "BM25 (rank-bm25, in-process)", percentile(bm25_ms, 50),
                             percentile(bm25_ms, 99), strict_recall(bm25_ranked, labels), float(len(bm25_ms))))
    finally:
        await db.close()

    print(f"\nLabelled queries: {len(texts)} (playbook, {len(playbook)} sections)")
    print(f"{'':34}{'Recall@3':>10}{'MRR@10':>10}")
    print(f"{'ours (PostgreSQL FTS + concepts)':34}{ours_q[0]:>10.3f}{ours_q[1]:>10.3f}")
    print(f"{'BM25 baseline (rank-bm25)':34}{theirs_q[0]:>10.3f}{theirs_q[1]:>10.3f}")
    emit("knowledge_search", "Recall@3, playbook alone", ours_q[0], "", baseline="BM25", baseline_value=theirs_q[0])
    print("\nWith synthetic runbooks present (Recall@3 over all hits: a labelled playbook section in the top 3;")
    print("for 'every match ranked': the mean share of its top 5 that the bounded search also returns)")
    print(f"{'sections':>9}  {'':30}{'p50 ms':>9}{'p99 ms':>9}{'Recall@3':>10}{'n':>6}")
    for size, who, p50, p99, recall, n in rows:
        print(f"{size:>9}  {who:30}{p50:>9.2f}{p99:>9.2f}{recall:>10.3f}{int(n):>6}")
    for size in sorted({r[0] for r in rows}):
        ours_row, exact_row, plain_row, consult_row, bm25_row = (r for r in rows if r[0] == size)
        print(f"{size:>9}  {'ratio ours / BM25':30}{ours_row[2] / bm25_row[2]:>9.2f}{ours_row[3] / bm25_row[3]:>9.2f}")
        print(f"{size:>9}  {'ratio ours / every match':30}{ours_row[2] / exact_row[2]:>9.2f}"
              f"{ours_row[3] / exact_row[3]:>9.2f}   top-5 score share: {agreement[size][1]:.3f}")
        emit("knowledge_search", f"search p99, {size:,} sections", ours_row[3], "ms", baseline="BM25 p99 (in-process)",
             baseline_value=bm25_row[3])
        emit("knowledge_search", f"search p99, {size:,} sections", ours_row[3], "ms",
             baseline="every match ranked, p99", baseline_value=exact_row[3])
        emit("knowledge_search", f"top-5 score share of every match ranked, {size:,} sections", agreement[size][1],
             "", baseline="same sections in top 5", baseline_value=agreement[size][0])
        emit("knowledge_search", f"Recall@3, {size:,} sections", ours_row[4], "", baseline="BM25",
             baseline_value=bm25_row[4])
        emit("knowledge_search", f"Recall@3, {size:,} sections", ours_row[4], "",
             baseline="playbook authority 1", baseline_value=plain_row[4])
        emit("knowledge_search", f"run's consultation Recall@3, {size:,} sections", consult_row[4], "",
             baseline="BM25", baseline_value=bm25_row[4])
        emit("knowledge_search", f"run's consultation p99, {size:,} sections", consult_row[3], "ms",
             baseline="BM25 p99 (in-process)", baseline_value=bm25_row[3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", help="use this (migratable) database instead of creating one")
    parser.add_argument("--admin-dsn", default=ADMIN_DSN, help="where the throwaway database is created")
    parser.add_argument("--sections", default="10000,100000", help="index sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=400, help="searches timed for our latency")
    args = parser.parse_args()
    sizes = [int(part) for part in args.sections.split(",")]
    if args.dsn:
        asyncio.run(run(args.dsn, sizes, args.queries))
        return 0
    name = f"support_mcp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        info = psycopg.conninfo.conninfo_to_dict(args.admin_dsn)
        info["dbname"] = name
        asyncio.run(run(psycopg.conninfo.make_conninfo(**info), sizes, args.queries))
    finally:
        with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
