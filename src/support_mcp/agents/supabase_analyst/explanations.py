"""Which supabase-analyst findings explain which symptoms (see `agents.explanations`).

The analyst's problem findings name their cause as `data["code"]`; each code explains one symptom."""

from __future__ import annotations

from support_mcp.agents.explanations import Explanation, code_is
from support_mcp.domain.models import Language

# code -> (symptom, weight, cause)
_CODES: dict[str, tuple[str, int, dict[Language, str]]] = {
    "signup_trigger_missing": ("auth_session", 4, {"de": "Trigger handle_new_user() fehlt: neue Nutzer bekommen kein Profil",
                                                   "en": "Trigger handle_new_user() missing: new users get no profile"}),
    "signup_trigger_disabled": ("auth_session", 4, {"de": "Trigger handle_new_user() ist deaktiviert",
                                                    "en": "Trigger handle_new_user() is disabled"}),
    "signup_fails": ("auth_session", 4, {"de": "Registrierung scheitert in der Datenbank (Trigger/Funktion wirft)",
                                         "en": "Sign-up fails in the database (trigger/function raises)"}),
    "function_missing": ("auth_session", 4, {"de": "Funktion des Sign-up-Pfads fehlt",
                                             "en": "A function of the sign-up path is missing"}),
    "signup_no_profile": ("auth_session", 3, {"de": "Registrierung legt kein Profil an",
                                              "en": "Sign-up creates no profile"}),
    "signup_no_subscription": ("auth_session", 3, {"de": "Registrierung legt kein Abo an (create_free_subscription())",
                                                   "en": "Sign-up creates no subscription (create_free_subscription())"}),
    "users_without_profile": ("auth_session", 3, {"de": "Nutzer ohne Profil", "en": "Users without a profile"}),
    "users_without_subscription": ("auth_session", 3, {"de": "Nutzer ohne Abo", "en": "Users without a subscription"}),
    "banned_user_sessions": ("auth_session", 3, {"de": "Gesperrte oder gelöschte Nutzer haben aktive Sessions",
                                                 "en": "Banned or deleted users have live sessions"}),
    "orphaned_profiles": ("auth_session", 2, {"de": "Profile ohne Nutzer (verwaist)",
                                              "en": "Profiles without a user (orphaned)"}),
    "profile_email_mismatch": ("auth_session", 1, {"de": "E-Mail in Profil und auth.users weichen ab",
                                                   "en": "Profile and auth.users e-mails differ"}),
    "rls_policy_recursion": ("rls_policy", 4, {"de": "RLS-Policy rekursiert (42P17)",
                                               "en": "An RLS policy recurses (42P17)"}),
    "rls_no_policy_for_role": ("rls_policy", 4, {"de": "RLS aktiv, aber keine Policy für die Rolle",
                                                 "en": "RLS on, but no policy for the role"}),
    "rpc_fails_for_role": ("rls_policy", 4, {"de": "RPC scheitert nur für die Rolle des Nutzers (Rechte/Policy)",
                                             "en": "The RPC fails only for the user's role (grants/policy)"}),
    "rpc_fails": ("rls_policy", 3, {"de": "RPC scheitert für jede Rolle (Funktion selbst fehlerhaft)",
                                    "en": "The RPC fails for every role (the function itself is broken)"}),
    "rls_enabled_no_policy": ("rls_policy", 3, {"de": "RLS aktiv ohne jede Policy",
                                                "en": "RLS enabled without any policy"}),
    "table_read_fails": ("rls_policy", 2, {"de": "Lesen der Tabelle als Nutzer scheitert",
                                           "en": "Reading the table as the user fails"}),
    "table_read_empty": ("rls_policy", 2, {"de": "Tabelle als Nutzer leer", "en": "Table empty as the user"}),
    "policy_exists_rls_disabled": ("data_exposure", 3, {"de": "Policies vorhanden, aber RLS ausgeschaltet",
                                                        "en": "Policies exist but RLS is off"}),
    "rls_disabled_in_public": ("data_exposure", 4, {"de": "Exponierte Tabelle ohne RLS",
                                                    "en": "Exposed table without RLS"}),
    "rls_policy_always_true": ("data_exposure", 4, {"de": "Policy erlaubt allen alles (always true)",
                                                    "en": "A policy allows everyone everything (always true)"}),
    "rls_references_user_metadata": ("data_exposure", 4, {"de": "Policy vertraut user_metadata (vom Nutzer änderbar)",
                                                          "en": "A policy trusts user_metadata (user-editable)"}),
    "rls_trusts_user_metadata": ("data_exposure", 4, {"de": "Policy vertraut raw_user_meta_data (vom Nutzer änderbar)",
                                                      "en": "A policy trusts raw_user_meta_data (user-editable)"}),
    "function_search_path_mutable": ("data_exposure", 4, {"de": "SECURITY-DEFINER-Funktion mit veränderbarem search_path",
                                                          "en": "SECURITY DEFINER function with a mutable search_path"}),
    "function_not_security_definer": ("auth_session", 2, {"de": "Sign-up-Funktion ist nicht SECURITY DEFINER",
                                                          "en": "A sign-up function is not SECURITY DEFINER"}),
    "multiple_permissive_policies": ("data_exposure", 1, {"de": "Mehrere permissive Policies für dieselbe Aktion",
                                                          "en": "Several permissive policies for one action"}),
    "lock_blocks_reads": ("database_health", 5, {"de": "Eine offene Transaktion hält eine Tabellensperre: jede Abfrage der "
                                                       "Tabelle wartet (Seiten laufen in den Timeout)",
                                                 "en": "An open transaction holds a table lock: every query of the table "
                                                       "waits (pages time out)"}),
    "lock_blocks_writes": ("database_health", 3, {"de": "Eine offene Transaktion hält eine Sperre, die Schreibzugriffe "
                                                        "blockiert",
                                                  "en": "An open transaction holds a lock that blocks writes"}),
    "read_timed_out": ("database_health", 2, {"de": "Eine Abfrage als Nutzer läuft in den Timeout (wartet auf eine Sperre "
                                                    "oder ist zu langsam)",
                                              "en": "A query as the user times out (waits for a lock or is too slow)"}),
    "health": ("database_health", 3, {"de": "Datenbank unter Last (Verbindungen, Sperren, lange Abfragen)",
                                       "en": "Database under strain (connections, locks, long queries)"}),
}

_CHECK_OF_CODE = {
    "signup_trigger_missing": "functions", "signup_trigger_disabled": "functions", "function_missing": "functions",
    "function_not_security_definer": "functions", "function_search_path_mutable": "functions",
    "signup_fails": "signup_path", "signup_no_profile": "signup_path", "signup_no_subscription": "signup_path",
    "users_without_profile": "auth_consistency", "users_without_subscription": "auth_consistency",
    "banned_user_sessions": "auth_consistency", "orphaned_profiles": "auth_consistency",
    "profile_email_mismatch": "auth_consistency", "rpc_fails_for_role": "reproduce_rpc", "rpc_fails": "reproduce_rpc",
    "table_read_fails": "reproduce_rpc", "table_read_empty": "reproduce_rpc", "health": "health",
    "read_timed_out": "reproduce_rpc", "lock_blocks_reads": "lock_holders", "lock_blocks_writes": "lock_holders",
}

SUPABASE_EXPLANATIONS: tuple[Explanation, ...] = tuple(
    Explanation(symptom, _CHECK_OF_CODE.get(code, "rls_policies"), cause, weight=weight, when=code_is(code))
    for code, (symptom, weight, cause) in _CODES.items()
) + (
    Explanation("database_health", "monitoring_snapshot", {"de": "Monitoring meldet einen gestörten Zustand",
                                                           "en": "Monitoring reports a degraded state"}),
    Explanation("database_health", "supabase_logs", {"de": "Fehler in den Supabase-Logs (Auth, Edge, Postgres)",
                                                     "en": "Errors in the Supabase logs (auth, edge, postgres)"}),
    # the database is as the newest migration wants it; a page failing on the old name is a running
    # build older than the rename: the deploy on the host
    Explanation("runtime_digest", "migration_renames",
                {"de": "Eine Migration hat ein Objekt umbenannt, das der laufende App-Build noch unter dem alten Namen "
                       "aufruft (Build älter als das Deployment)",
                 "en": "A migration renamed an object the running app build still calls by its old name (a build "
                       "older than the deployment)"},
                weight=4, when=code_is("renamed_in_migration"), layer="hetzner-ops-agent"),
)
