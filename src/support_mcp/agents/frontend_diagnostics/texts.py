"""User-facing texts of the frontend-diagnostics-agent: German (default) and English side by side."""

from __future__ import annotations

from support_mcp.domain.models import Language

_TEXTS: dict[str, dict[Language, str]] = {
    "build.title": {"de": "Build (npm run build)", "en": "Build (npm run build)"},
    "lint.title": {"de": "Lint (npm run lint)", "en": "Lint (npm run lint)"},
    "test.title": {"de": "Tests (npm run test)", "en": "Tests (npm run test)"},
    "digest.title": {"de": "Digest-Fehler", "en": "Digest errors"},
    "csp.title": {"de": "Content-Security-Policy", "en": "Content-Security-Policy"},
    "assets.title": {"de": "Assets der Seite", "en": "Page assets"},
    "headers.title": {"de": "Header aus next.config", "en": "Headers of next.config"},
    "headers.none": {"de": "{config} deklariert keine Header per headers()", "en": "{config} declares no headers()"},
    "headers.ok": {"de": "Alle {count} Header aus {config} kommen auf {pages} Seite(n) an",
                   "en": "All {count} headers of {config} arrive on {pages} page(s)"},
    "headers.stale": {"de": "Der laufende Build ist älter als {config}: {names} dort deklariert, im Build nicht — "
                            "neu bauen und ausliefern",
                      "en": "The running build is older than {config}: {names} declared there, not in the build — "
                            "rebuild and deploy"},
    "headers.stale_detail": {"de": "{config} geändert {changed}; laufender Build {build_id} von {built} "
                                   "(.next/routes-manifest.json)",
                             "en": "{config} changed {changed}; running build {build_id} of {built} "
                                   "(.next/routes-manifest.json)"},
    "headers.lost": {"de": "{names} aus {config} steht im Build, kommt aber nicht an (ein Proxy entfernt oder "
                           "überschreibt ihn?)",
                     "en": "{names} of {config} is in the build but does not arrive (a proxy removes or overrides it?)"},
    "headers.missing": {"de": "{names} aus {config} kommt nicht an (Build älter als die Konfiguration oder ein "
                              "Proxy; kein Deploy-Ordner konfiguriert, um es zu unterscheiden)",
                        "en": "{names} of {config} does not arrive (build older than the config, or a proxy; no "
                              "deploy folder configured to tell)"},
    "smoke.title": {"de": "Smoke-Test im Browser", "en": "Browser smoke test"},
    "no_target": {"de": "{title}: kein Frontend konfiguriert (SUPPORT_MCP_FRONTEND_DIR)",
                  "en": "{title}: no frontend configured (SUPPORT_MCP_FRONTEND_DIR)"},
    "no_url": {"de": "{title}: keine URL der laufenden App (SUPPORT_MCP_FRONTEND_URL)",
               "en": "{title}: no URL of the running app (SUPPORT_MCP_FRONTEND_URL)"},
    "no_script": {"de": "{title}: package.json hat kein Skript „{script}“",
                  "en": "{title}: package.json has no script '{script}'"},
    "error.exit": {"de": "{title}: Befehl fehlgeschlagen (Exit-Code {code})",
                   "en": "{title}: command failed (exit code {code})"},
    "error.timeout": {"de": "{title}: Zeitüberschreitung nach {seconds} s", "en": "{title}: timed out after {seconds} s"},
    "error.start": {"de": "{title}: Befehl nicht ausführbar", "en": "{title}: command could not be run"},
    "error.http": {"de": "{title}: {url} nicht erreichbar ({error})", "en": "{title}: {url} not reachable ({error})"},
    "error.parse": {"de": "{title}: Ausgabe nicht auswertbar", "en": "{title}: output could not be parsed"},
    "workspace.failed": {"de": "Arbeitskopie konnte nicht angelegt werden", "en": "Workspace copy could not be created"},
    "build.ok": {"de": "Build erfolgreich in {seconds} s ({routes} Routen)",
                 "en": "Build succeeded in {seconds} s ({routes} routes)"},
    "build.error": {"de": "Build-Fehler ({kind}) in {where}: {message}", "en": "Build error ({kind}) in {where}: {message}"},
    "build.case": {"de": "{title} — die Datei heißt {actual}: Groß-/Kleinschreibung im Import „{spec}“ "
                          "(auf macOS/Windows gefunden, auf Linux nicht)",
                   "en": "{title} — the file is {actual}: letter case of the import '{spec}' "
                         "(found on macOS/Windows, not on Linux)"},
    "build.detail": {"de": "Exit-Code {code}, Dauer {seconds} s, Arbeitskopie {workspace}",
                     "en": "Exit code {code}, duration {seconds} s, workspace {workspace}"},
    "lint.ok": {"de": "Lint ohne Fehler ({warnings} Warnungen)", "en": "Lint without errors ({warnings} warnings)"},
    "lint.error": {"de": "Lint-Fehler in {where}: {message} ({rule})", "en": "Lint error in {where}: {message} ({rule})"},
    "lint.warnings": {"de": "Lint: {count} Warnungen", "en": "Lint: {count} warnings"},
    "test.ok": {"de": "Alle {total} Tests bestanden", "en": "All {total} tests passed"},
    "test.failed": {"de": "Test fehlgeschlagen: {name} ({where})", "en": "Test failed: {name} ({where})"},
    "digest.none": {"de": "Keine Digest-Fehler auf {pages} Seite(n) und im Server-Log",
                    "en": "No digest errors on {pages} page(s) or in the server log"},
    "digest.quoted_unknown": {
        "de": "Digest {digest} aus dem Ticket ist weder auf den Seiten noch im Server-Log (älterer Build?)",
        "en": "Digest {digest} from the ticket is neither on the pages nor in the server log (older build?)",
    },
    "digest.found": {"de": "Digest {digest}: {message} in {where}", "en": "Digest {digest}: {message} in {where}"},
    "digest.unmatched": {"de": "Digest {digest} auf {page}, aber kein passender Eintrag im Server-Log",
                         "en": "Digest {digest} on {page}, but no matching entry in the server log"},
    "digest.detail": {"de": "Chunk {chunk}; Seiten mit diesem Digest: {pages}",
                      "en": "Chunk {chunk}; pages showing this digest: {pages}"},
    "csp.missing": {"de": "Keine Content-Security-Policy in {config} und in der Antwort",
                    "en": "No Content-Security-Policy in {config} or in the response"},
    "csp.differs": {"de": "Ausgelieferte CSP weicht von {config} ab",
                    "en": "The served CSP differs from {config}"},
    "csp.blocked": {"de": "CSP blockiert {kind} {url} (Direktive {directive})",
                    "en": "CSP blocks {kind} {url} (directive {directive})"},
    "csp.blocked_detail": {"de": "Seite {page}; erlaubt sind: {sources}. Datei: {config}",
                           "en": "Page {page}; allowed are: {sources}. File: {config}"},
    "csp.ok": {"de": "CSP erlaubt alle {count} Ressourcen der Seite(n); gesetzt in {config}",
               "en": "The CSP allows all {count} resources of the page(s); set in {config}"},
    "assets.broken": {"de": "Asset {url} antwortet {status} ({kind}, eingebunden als {reference})",
                      "en": "Asset {url} answers {status} ({kind}, referenced as {reference})"},
    "assets.ok": {"de": "Alle {count} Assets erreichbar", "en": "All {count} assets reachable"},
    "smoke.ok": {"de": "{page} lädt ohne Fehler (HTTP {status}); Screenshot gespeichert",
                 "en": "{page} loads without errors (HTTP {status}); screenshot saved"},
    "smoke.failed": {"de": "{page}: HTTP {status}, {errors} Konsolenfehler, {failed} fehlgeschlagene Anfragen",
                     "en": "{page}: HTTP {status}, {errors} console errors, {failed} failed requests"},
    "smoke.client_error": {"de": "Fehler im Browser auf {page}: {message} — in {source}",
                           "en": "Error in the browser on {page}: {message} — in {source}"},
    "smoke.client_error_unknown": {"de": "Fehler im Browser auf {page}: {message} (Quelle nicht gefunden, {where})",
                                   "en": "Error in the browser on {page}: {message} (source not found, {where})"},
    "smoke.client_error_detail": {"de": "Stack: {where}; Quelle über {method} bestimmt",
                                  "en": "stack: {where}; source found by {method}"},
    "smoke.method.map": {"de": "die Source Map", "en": "the source map"},
    "smoke.method.words": {"de": "Abgleich der Wörter im Chunk mit den Quelldateien",
                           "en": "matching the chunk's words with the source files"},
    "smoke.method.public": {"de": "den Pfad unter public/", "en": "its path under public/"},
    "smoke.nav": {"de": "{page} lädt nicht: {error}", "en": "{page} does not load: {error}"},
    # The agent never drafts the patch itself (`proposes` returns None): the next step says who must.
    "hotfix.hint": {
        "de": "Hotfix-Patch für {file} bereitstellen und mit `draft_repair_plan`/`support-mcp plans draft "
              "--repair frontend.hotfix_deploy --param patch=@datei.diff --ticket {ticket} "
              "--agent frontend-diagnostics-agent` einplanen",
        "en": "Provide a hotfix patch for {file} and plan it with `draft_repair_plan`/`support-mcp plans draft "
              "--repair frontend.hotfix_deploy --param patch=@file.diff --ticket {ticket} "
              "--agent frontend-diagnostics-agent`",
    },
    "repair.redeploy": {"de": "Kein Patch: {source} wird so, wie es ist, neu gebaut und ausgeliefert",
                        "en": "No patch: {source} is rebuilt as it is and deployed"},
    "repair.hotfix": {"de": "Hotfix anwenden, neu bauen und ausliefern", "en": "Apply hotfix, rebuild and deploy"},
}


def text(language: Language, key: str, **values: object) -> str:
    """The text `key` in `language`, formatted with `values`."""
    return _TEXTS[key][language].format(**values)


def seconds(ms: float, language: Language) -> str:
    value = f"{ms / 1000:.1f}"
    return value.replace(".", ",") if language == "de" else value
