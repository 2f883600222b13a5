"""Texts for support staff (German by default, English on request), one table for the agent."""

from __future__ import annotations

from support_mcp.domain.models import Language

_TEXTS: dict[str, dict[Language, str]] = {
    # check titles
    "health.title": {"de": "Datenbank-Health-Check", "en": "Database health check"},
    "monitoring.title": {"de": "Monitoring-Snapshot der App", "en": "App monitoring snapshot"},
    "logs.title": {"de": "Supabase-Logs (Auth, Edge Functions, Postgres)",
                   "en": "Supabase logs (Auth, Edge Functions, Postgres)"},
    "auth.title": {"de": "Auth/Profiles-Konsistenz", "en": "Auth/profiles consistency"},
    "functions.title": {"de": "Trigger und Funktionen der Registrierung", "en": "Sign-up trigger and functions"},
    "locks.title": {"de": "Tabellensperren offener Transaktionen", "en": "Table locks of open transactions"},
    "locks.none": {"de": "Keine Sitzung hält länger als {seconds} s eine Tabellensperre",
                   "en": "No session has held a table lock for longer than {seconds} s"},
    "locks.blocks_reads": {"de": "Sitzung {pid} ({user}, {state}) hält seit {seconds} s eine exklusive Sperre auf {tables}: "
                                 "jede Abfrage wartet ({waiting} wartend)",
                           "en": "Session {pid} ({user}, {state}) has held an exclusive lock on {tables} for {seconds} s: "
                                 "every query waits ({waiting} waiting)"},
    "locks.blocks_writes": {"de": "Sitzung {pid} ({user}, {state}) hält seit {seconds} s eine Sperre auf {tables}, die "
                                  "Schreibzugriffe blockiert ({waiting} wartend)",
                            "en": "Session {pid} ({user}, {state}) has held a lock on {tables} that blocks writes for "
                                  "{seconds} s ({waiting} waiting)"},
    "locks.detail": {"de": "pg_locks mit pg_stat_activity: Sperren in offenen Transaktionen, älter als {seconds} s; "
                           "wartende Sitzungen per pg_blocking_pids.",
                     "en": "pg_locks with pg_stat_activity: locks of open transactions older than {seconds} s; waiting "
                           "sessions by pg_blocking_pids."},
    "locks.repair_title": {"de": "Sperrende Sitzung beenden (pg_terminate_backend)",
                           "en": "End the locking session (pg_terminate_backend)"},
    "locks.gone": {"de": "Sitzung {pid} gibt es nicht mehr (oder eine andere hat die pid): nichts zu beenden",
                   "en": "Session {pid} is gone (or another has its pid): nothing to end"},
    "locks.released": {"de": "Sitzung {pid} hält keine Tabellensperre mehr: nichts zu beenden",
                       "en": "Session {pid} holds no table lock any more: nothing to end"},
    "locks.would_terminate": {"de": "Würde Sitzung {pid} ({user}, {state}, Transaktion seit {since}) beenden; sie sperrt "
                                    "{tables}. Ihre offene Transaktion wird zurückgerollt.",
                              "en": "Would end session {pid} ({user}, {state}, transaction since {since}); it locks "
                                    "{tables}. Its open transaction is rolled back."},
    "locks.terminated": {"de": "Sitzung {pid} beendet; ihre Transaktion ist zurückgerollt",
                         "en": "Session {pid} ended; its transaction was rolled back"},
    "locks.not_terminated": {"de": "Sitzung {pid} nicht beendet (weg, ersetzt oder keine Berechtigung)",
                             "en": "Session {pid} not ended (gone, replaced or not permitted)"},
    "locks.validated": {"de": "Keine Sitzung hält mehr eine lesende Abfragen blockierende Sperre (vorher: {pid})",
                        "en": "No session holds a read-blocking lock any more (before: {pid})"},
    "renames.title": {"de": "Umbenennungen in den neuesten Migrationen", "en": "Renames in the newest migrations"},
    "renames.no_migrations": {"de": "Keine Migrationsdateien ({folder}): Umbenennungen nicht prüfbar",
                              "en": "No migration files ({folder}): renames cannot be checked"},
    "renames.none": {"de": "Keine angewendete Umbenennung in den {count} neuesten Migrationen (bis {last})",
                     "en": "No applied rename in the {count} newest migrations (up to {last})"},
    "renames.applied": {"de": "Migration {migration} hat {kind} {old} in {new} umbenannt (angewendet): wer den alten "
                              "Namen aufruft, scheitert",
                        "en": "Migration {migration} renamed {kind} {old} to {new} (applied): callers of the old name "
                              "fail"},
    "renames.detail": {"de": "Ein App-Build, der älter ist als diese Migration, ruft noch {old} auf (42883/42P01/42703); "
                             "der Quellcode kann schon den neuen Namen nennen.",
                       "en": "An app build older than this migration still calls {old} (42883/42P01/42703); the "
                             "source may name the new one already."},
    "renames.kind.function": {"de": "die Funktion", "en": "function"},
    "renames.kind.table": {"de": "die Tabelle", "en": "table"},
    "renames.kind.view": {"de": "die View", "en": "view"},
    "renames.kind.column": {"de": "die Spalte", "en": "column"},
    "signup.title": {"de": "Registrierungspfad (Reproduktion mit ROLLBACK)",
                     "en": "Sign-up path (reproduction with ROLLBACK)"},
    "rls.title": {"de": "RLS und Policies", "en": "RLS and policies"},
    "reproduce.title": {"de": "Fehler reproduzieren (RPC/Tabellen als Nutzer)",
                        "en": "Reproduce errors (RPC/tables as a user)"},
    # generic
    "error.db": {"de": "{title}: Datenbank nicht erreichbar", "en": "{title}: database unreachable"},
    "error.sql": {"de": "{title}: Abfrage fehlgeschlagen", "en": "{title}: query failed"},
    "skipped.no_target": {"de": "{title}: kein Supabase-Ziel konfiguriert (SUPPORT_MCP_SUPABASE_DB_URL)",
                          "en": "{title}: no Supabase target configured (SUPPORT_MCP_SUPABASE_DB_URL)"},
    "skipped.no_url": {"de": "{title}: nicht konfiguriert ({var})", "en": "{title}: not configured ({var})"},
    # health
    "health.result": {"de": "{connections} Verbindungen, {long} lange Abfragen, {blocked} blockierte Sperren, "
                            "Cache-Trefferquote {ratio}, Größe {size}",
                      "en": "{connections} connections, {long} long-running queries, {blocked} blocked locks, "
                            "cache hit ratio {ratio}, size {size}"},
    "health.detail": {"de": "Warnung bei Abfragen über {seconds} s, blockierten Sperren oder Trefferquote "
                            "unter {min_ratio}.",
                      "en": "Warning on queries over {seconds} s, blocked locks or a hit ratio below {min_ratio}."},
    "monitoring.result": {"de": "Monitoring-Snapshot: Status {status}", "en": "Monitoring snapshot: status {status}"},
    "monitoring.failed": {"de": "Monitoring-Snapshot nicht abrufbar: {error}",
                          "en": "Monitoring snapshot not available: {error}"},
    "logs.result": {"de": "{errors} Fehlerzeilen in {sources} Log-Quellen der letzten {minutes} min",
                    "en": "{errors} error lines in {sources} log sources over the last {minutes} min"},
    "logs.failed": {"de": "Supabase-Logs nicht abrufbar: {error}", "en": "Supabase logs not available: {error}"},
    # auth consistency
    "auth.users_without_profile": {"de": "{count} Nutzer ohne Profil (profiles)",
                                   "en": "{count} users without a profile (profiles)"},
    "auth.orphaned_profiles": {"de": "{count} verwaiste Profile ohne Nutzer in auth.users",
                               "en": "{count} orphaned profiles without a user in auth.users"},
    "auth.profile_email_mismatch": {"de": "{count} Profile mit anderer E-Mail als auth.users",
                                    "en": "{count} profiles whose email differs from auth.users"},
    "auth.users_without_subscription": {"de": "{count} Nutzer ohne Abo (subscriptions)",
                                        "en": "{count} users without a subscription"},
    "auth.banned_user_sessions": {"de": "{count} aktive Sitzungen gesperrter oder gelöschter Nutzer",
                                  "en": "{count} live sessions of banned or deleted users"},
    "auth.ok": {"de": "auth.users, auth.sessions, profiles und subscriptions konsistent ({users} Nutzer)",
                "en": "auth.users, auth.sessions, profiles and subscriptions consistent ({users} users)"},
    # functions
    "functions.trigger_missing": {"de": "Kein Registrierungs-Trigger auf auth.users (der {table} anlegt)",
                                  "en": "No sign-up trigger on auth.users (one that creates {table})"},
    "functions.trigger_disabled": {"de": "Registrierungs-Trigger {trigger} auf auth.users ist deaktiviert",
                                   "en": "Sign-up trigger {trigger} on auth.users is disabled"},
    "skip.query": {"de": "{what}: übersprungen, {reason}", "en": "{what}: skipped, {reason}"},
    "skip.no_table": {"de": "Tabelle {table} gibt es in diesem Projekt nicht",
                      "en": "this project has no table {table}"},
    "skip.no_user_column": {"de": "{table} hat keine Spalte mit der Nutzer-ID (Fremdschlüssel auf auth.users, "
                                  "user_id oder id)",
                            "en": "{table} has no column with the user's id (foreign key to auth.users, user_id or id)"},
    "skip.no_column": {"de": "{table} hat keine Spalte {column}", "en": "{table} has no column {column}"},
    "functions.missing": {"de": "Funktion {fn}() fehlt", "en": "Function {fn}() is missing"},
    "functions.not_definer": {"de": "Funktion {fn}() ist nicht SECURITY DEFINER",
                              "en": "Function {fn}() is not SECURITY DEFINER"},
    "functions.search_path": {"de": "SECURITY-DEFINER-Funktion {fn}() ohne festen search_path",
                              "en": "SECURITY DEFINER function {fn}() has a mutable search_path"},
    "functions.search_path_invoker": {"de": "Funktion {fn}() ohne festen search_path",
                                      "en": "Function {fn}() has a mutable search_path"},
    "functions.ok": {"de": "Registrierungs-Trigger auf auth.users aktiv, seine Funktion SECURITY DEFINER, "
                           "kein Routine-search_path offen",
                     "en": "Sign-up trigger on auth.users enabled, its function SECURITY DEFINER, "
                           "no routine with a mutable search_path"},
    # sign-up path
    "signup.fails": {"de": "Registrierung schlägt fehl (\"Database error saving new user\"): {message}",
                     "en": "Sign-up fails (\"Database error saving new user\"): {message}"},
    "signup.no_profile": {"de": "Registrierung legt kein Profil an", "en": "Sign-up creates no profile"},
    "signup.no_subscription": {"de": "Registrierung legt kein Abo an", "en": "Sign-up creates no subscription"},
    "signup.ok": {"de": "Test-Registrierung legt Profil und Abo an (zurückgerollt)",
                  "en": "Test sign-up creates profile and subscription (rolled back)"},
    # rls
    "rls.rls_disabled_in_public": {"de": "Tabelle {table} im exponierten Schema ohne RLS",
                                   "en": "Table {table} in an exposed schema has RLS disabled"},
    "rls.rls_enabled_no_policy": {"de": "Tabelle {table}: RLS aktiv, aber keine Policy",
                                  "en": "Table {table}: RLS enabled but no policy"},
    "rls.rls_no_policy_for_role": {"de": "Tabelle {table}: keine {cmd}-Policy für Rolle {role} (liest nichts)",
                                   "en": "Table {table}: no {cmd} policy for role {role} (reads return nothing)"},
    "rls.policy_exists_rls_disabled": {"de": "Tabelle {table}: Policies vorhanden, RLS aber aus",
                                       "en": "Table {table}: policies exist but RLS is disabled"},
    "rls.rls_policy_always_true": {"de": "Policy {policy} auf {table} ist immer wahr ({cmd} für {roles})",
                                   "en": "Policy {policy} on {table} is always true ({cmd} for {roles})"},
    "rls.rls_references_user_metadata": {"de": "Policy {policy} auf {table} vertraut user_metadata "
                                               "(vom Nutzer änderbar)",
                                         "en": "Policy {policy} on {table} trusts user_metadata "
                                               "(editable by the user)"},
    "rls.rls_policy_recursion": {"de": "Policy auf {table} rekursiert (SQLSTATE 42P17)",
                                 "en": "Policy on {table} recurses (SQLSTATE 42P17)"},
    "rls.multiple_permissive_policies": {"de": "Tabelle {table}: mehrere permissive Policies für {role}/{cmd}",
                                         "en": "Table {table}: several permissive policies for {role}/{cmd}"},
    "rls.ok": {"de": "{tables} Tabellen in exponierten Schemas: RLS und Policies unauffällig",
               "en": "{tables} tables in exposed schemas: RLS and policies fine"},
    # reproduction
    "reproduce.rpc_fails_for_role": {"de": "RPC {fn}() schlägt nur als {role} fehl: {message}",
                                     "en": "RPC {fn}() fails only as {role}: {message}"},
    "reproduce.rpc_fails": {"de": "RPC {fn}() schlägt fehl: {message}", "en": "RPC {fn}() fails: {message}"},
    "reproduce.table_read_fails": {"de": "Lesen von {table} als {role} schlägt fehl: {message}",
                                   "en": "Reading {table} as {role} fails: {message}"},
    "reproduce.table_read_empty": {"de": "{table} als {role} leer, obwohl {rows} eigene Zeilen existieren",
                                   "en": "{table} as {role} is empty although {rows} own rows exist"},
    "reproduce.ok": {"de": "{rpcs} RPCs und {tables} Tabellen als {user} reproduziert: ohne Fehler",
                     "en": "{rpcs} RPCs and {tables} tables reproduced as {user}: no errors"},
    "reproduce.no_user": {"de": "Kein Nutzer für die Reproduktion gefunden", "en": "No user found to reproduce as"},
    "reproduce.detail": {"de": "Als Rolle {role} mit den JWT-Claims von {user} in einer Transaktion, die "
                               "immer zurückgerollt wird.",
                         "en": "As role {role} with the JWT claims of {user} in a transaction that is "
                               "always rolled back."},
    # repairs
    "repair.note": {"de": "Reparatur {name}: Ursache: {cause}\nAktionen: {actions}\nErgebnis: {result}",
                    "en": "Repair {name}: cause: {cause}\nActions: {actions}\nResult: {result}"},
    "repair.exists": {"de": "Gleichwertige Migration existiert bereits: {file}",
                      "en": "An equivalent migration already exists: {file}"},
    "repair.validated": {"de": "Reproduktion nach der Reparatur: {code} behoben",
                         "en": "Reproduction after the repair: {code} fixed"},
    "repair.still": {"de": "Reproduktion nach der Reparatur: {code} besteht weiter",
                     "en": "Reproduction after the repair: {code} persists"},
    "repair.dry_run_reproduced": {"de": "Reproduktion im Trockentest: bestanden",
                                  "en": "Reproduction in the dry-run: passed"},
    "repair.dry_run_not_reproduced": {"de": "Reproduktion im Trockentest: fehlgeschlagen",
                                      "en": "Reproduction in the dry-run: failed"},
    "repair.dry_run_reproduction_skipped": {"de": "Reproduktion im Trockentest: übersprungen (Migration fehlgeschlagen)",
                                            "en": "Reproduction in the dry-run: skipped (migration failed)"},
    "repair.new_problem": {"de": "neu nach der Migration", "en": "new after the migration"},
    "signup.sequence_skipped": {
        "de": "Registrierungspfad nicht geprüft: Sequenz {sequence} lässt sich für den Test nicht abschirmen "
              "({message}); die Prüfung würde sie weiterzählen",
        "en": "Sign-up path not checked: sequence {sequence} cannot be shielded for the probe ({message}); "
              "the probe would advance it"},
    "rls.rls_policy_cycle": {"de": "RLS-Policies rekursieren im Kreis (42P17): {cycle}",
                             "en": "RLS policies recurse in a cycle (42P17): {cycle}"},
    "reproduce.user_ticket_customer": {"de": "(der Kunde des Tickets)", "en": "(the ticket's customer)"},
    "reproduce.user_ticket_text": {"de": "(in der Kundennachricht genannt)", "en": "(named in the customer's message)"},
    "reproduce.user_parameter": {"de": "(wie angefragt)", "en": "(as asked)"},
    "reproduce.user_oldest_user": {
        "de": "(kein Nutzer im Ticket genannt: ältester aktiver bestätigter Nutzer)",
        "en": "(no user named in the ticket: the oldest active confirmed user)"},
    "repair.record": {"de": "Aufzeichnung beim Ausführen: {where}", "en": "Recorded on apply in: {where}"},
    "repair.record_folder_only": {
        "de": "nur als Datei in {folder} (dieses Projekt hat keine {table})",
        "en": "only as a file in {folder} (this project has no {table})"},
    "repair.record_ticket_only": {
        "de": "nur im Ticket (kein Migrationsordner konfiguriert, keine {table})",
        "en": "on the ticket only (no migrations folder configured, no {table})"},
    "repair.record_refused": {
        "de": "Aufzeichnung nicht möglich: keine Schreibrechte auf {where}; der Plan kann so nicht ausgeführt werden",
        "en": "Cannot record the migration: no write access to {where}; the plan cannot be applied as is"},
}


def text(language: Language, key: str, **values: object) -> str:
    """The text `key` in `language`, with the caller's values filled in."""
    return _TEXTS[key][language].format(**values)
