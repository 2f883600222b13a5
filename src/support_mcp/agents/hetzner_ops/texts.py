"""User-facing texts of the hetzner-ops-agent: German for support staff (default) and English."""

from __future__ import annotations

from support_mcp.domain.models import Language

_TEXTS: dict[str, dict[Language, str]] = {
    "pm2_status.title": {"de": "PM2-Prozess der App", "en": "PM2 process of the app"},
    "pm2_status.online": {"de": "{app} läuft (PM2 online, PID {pid}, {restarts} Neustarts)",
                          "en": "{app} is running (PM2 online, PID {pid}, {restarts} restarts)"},
    "pm2_status.loop": {"de": "{app} startet immer wieder neu ({restarts} Neustarts, Status {status})",
                        "en": "{app} is restart-looping ({restarts} restarts, status {status})"},
    "pm2_status.down": {"de": "{app} läuft nicht (PM2-Status {status}, Exit-Code {exit_code})",
                        "en": "{app} is not running (PM2 status {status}, exit code {exit_code})"},
    "pm2_status.no_daemon": {"de": "Kein PM2-Daemon läuft für Benutzer {user}: {app} läuft nicht unter PM2 "
                                   "(pm2 wurde nicht aufgerufen, es hätte einen leeren Daemon gestartet)",
                             "en": "No PM2 daemon runs for user {user}: {app} does not run under PM2 (pm2 was not "
                                   "called, it would have started an empty daemon)"},
    "pm2_logs.no_daemon": {"de": "Kein PM2-Daemon läuft für Benutzer {user}: keine PM2-Logs zu lesen",
                           "en": "No PM2 daemon runs for user {user}: no PM2 logs to read"},
    "pm2_status.memory_loop": {"de": "{app} wird von PM2 immer wieder über dem Speicherlimit neu gestartet ({count}× "
                                     "seit dem letzten Start von Hand; zuletzt {memory} bei Limit {limit}, jetzt {now})",
                               "en": "PM2 restarts {app} over its memory limit again and again ({count}× since it was "
                                     "last started by hand; last at {memory} with a limit of {limit}, now {now})"},
    "pm2_status.missing": {"de": "{app} ist in PM2 nicht registriert", "en": "{app} is not registered in PM2"},
    "pm2_status.detail": {"de": "Neustarts: {restarts}, instabile Neustarts: {unstable}; läuft seit {since}.",
                          "en": "Restarts: {restarts}, unstable restarts: {unstable}; up since {since}."},
    "pm2_logs.title": {"de": "PM2-Logs der App", "en": "PM2 logs of the app"},
    "pm2_logs.errors": {"de": "{count} Fehlerzeilen in den letzten {lines} Logzeilen, zuletzt {when}: {message}",
                        "en": "{count} error lines in the last {lines} log lines, last at {when}: {message}"},
    "pm2_logs.env_missing": {"de": "{name}, den der Fehler der App nennt, fehlt in {path}; das Backup {backup} "
                                   "enthält einen Wert",
                             "en": "{name}, named by the app's error, is missing from {path}; the backup {backup} "
                                   "holds a value"},
    "pm2_logs.env_empty": {"de": "{name}, den der Fehler der App nennt, ist in {path} leer; das Backup {backup} "
                                 "enthält einen Wert",
                           "en": "{name}, named by the app's error, is empty in {path}; the backup {backup} holds "
                                 "a value"},
    "pm2_logs.env_changed": {"de": "{name}, den der Fehler der App nennt, hat in {path} einen anderen Wert als im "
                                   "Backup {backup}",
                             "en": "{name}, named by the app's error, differs in {path} from the backup {backup}"},
    "pm2_logs.clean": {"de": "Keine Fehlerzeilen in den letzten {lines} Logzeilen",
                       "en": "No error lines in the last {lines} log lines"},
    "journal.title": {"de": "Journal (journalctl)", "en": "Journal (journalctl)"},
    "journal.no_systemd": {"de": "journalctl nicht verfügbar, stattdessen PM2- und Caddy-Logs: {reason}",
                           "en": "journalctl not available, PM2 and Caddy logs used instead: {reason}"},
    "journal.errors": {"de": "{count} Fehlerzeilen im Journal von {unit} (seit {since} min)",
                       "en": "{count} error lines in the journal of {unit} (last {since} min)"},
    "journal.clean": {"de": "Keine Fehler im Journal von {unit} (seit {since} min)",
                      "en": "No errors in the journal of {unit} (last {since} min)"},
    "port.title": {"de": "App-Port", "en": "App port"},
    "port.free": {"de": "Auf Port {port} lauscht kein Prozess", "en": "Nothing is listening on port {port}"},
    "port.app": {"de": "Port {port}: {app} lauscht (PID {pid})", "en": "Port {port}: {app} is listening (PID {pid})"},
    "port.conflict": {"de": "Port {port} ist von einem anderen Prozess belegt ({process}, PID {pid}); {app} "
                            "scheitert mit EADDRINUSE",
                      "en": "Port {port} is held by another process ({process}, PID {pid}); {app} fails with "
                            "EADDRINUSE"},
    "port.conflict_manual": {"de": "Manuell zu entscheiden: Prozess {process} (PID {pid}, `{cmdline}`) ist nicht "
                                    "von PM2 gestartet. Nach Prüfung, ob er gebraucht wird: `{commands}`",
                             "en": "A human decides: process {process} (PID {pid}, `{cmdline}`) was not started "
                                   "by PM2. After checking it is not needed: `{commands}`"},
    "caddy.backup_valid": {"de": "Letztes gültiges Backup: {backup}", "en": "Last valid backup: {backup}"},
    "caddy.no_valid_backup": {"de": "Kein gültiges Backup der Caddy-Konfiguration ({count} geprüft)",
                              "en": "No valid backup of the Caddy configuration ({count} checked)"},
    "caddy.title": {"de": "Caddy (Reverse Proxy)", "en": "Caddy (reverse proxy)"},
    "caddy.valid": {"de": "Caddy-Konfiguration gültig{service}", "en": "Caddy configuration valid{service}"},
    "caddy.invalid": {"de": "Caddy-Konfiguration ungültig: {error}", "en": "Caddy configuration invalid: {error}"},
    "caddy.service_down": {"de": "Caddy-Dienst {state}", "en": "Caddy service {state}"},
    "caddy.no_systemd": {"de": "systemctl nicht verfügbar ({reason}); geprüft mit `caddy validate` und HTTP",
                         "en": "systemctl not available ({reason}); checked with `caddy validate` and HTTP"},
    "deploy.no_app_dir": {"de": "App-Ordner unbekannt: kein PM2-Daemon von {user} nennt ihn, konfiguriert ist er "
                                "nicht (SUPPORT_MCP_APP_DIR)",
                          "en": "App folder unknown: no PM2 daemon of {user} names it, none is configured "
                                "(SUPPORT_MCP_APP_DIR)"},
    "deploy.link_outside": {"de": "BUILD_ID nicht gelesen: {reason}", "en": "BUILD_ID not read: {reason}"},
    "links.title": {"de": "Symbolische Links im Deploy-Ordner", "en": "Symbolic links in the deploy folder"},
    "links.outside": {"de": "{count} Link(s) im Deploy-Ordner führen hinaus, z. B. {first}",
                      "en": "{count} link(s) in the deploy folder lead out of it, e.g. {first}"},
    "links.inside": {"de": "{count} Link(s) im Deploy-Ordner, alle bleiben darin",
                     "en": "{count} link(s) in the deploy folder, all stay inside it"},
    "links.unreadable": {"de": "Links im Deploy-Ordner nicht prüfbar", "en": "Links in the deploy folder not checkable"},
    "upstream.title": {"de": "Caddy-Upstream und App-Port", "en": "Caddy's upstream and the app port"},
    "upstream.port_no_daemon": {"de": "Nicht geprüft: kein PM2-Daemon, der Port von {app} ist unbekannt",
                                "en": "Not checked: no PM2 daemon, the port of {app} is unknown"},
    "upstream.port_not_found": {"de": "Nicht geprüft: der Port von {app} steht nicht in PM2 (weder Argumente noch "
                                      "env PORT)",
                                "en": "Not checked: PM2 does not show the port of {app} (neither args nor env PORT)"},
    "upstream.unadaptable": {"de": "Nicht geprüft: `caddy adapt` scheitert am Caddyfile (siehe Caddy-Prüfung)",
                             "en": "Not checked: `caddy adapt` fails on the Caddyfile (see the Caddy check)"},
    "upstream.none_local": {"de": "Nicht geprüft: keiner der {count} Upstreams im Caddyfile zeigt auf diesen Host",
                            "en": "Not checked: none of the {count} upstreams in the Caddyfile dials this host"},
    "upstream.ok": {"de": "Caddy leitet an {dial} weiter, die App lauscht auf Port {port}",
                    "en": "Caddy proxies to {dial}, the app listens on port {port}"},
    "upstream.mismatch": {"de": "Caddy leitet an {dials} weiter, {app} lauscht aber auf Port {port} (laut {source})",
                          "en": "Caddy proxies to {dials}, but {app} listens on port {port} (per {source})"},
    "health.title": {"de": "Health-Endpunkt der App", "en": "The app's health endpoint"},
    "health.unset": {"de": "Kein Health-Pfad konfiguriert (SUPPORT_MCP_HEALTH_PATH) oder keine öffentliche URL",
                     "en": "No health path configured (SUPPORT_MCP_HEALTH_PATH) or no public URL"},
    "health.ok": {"de": "{url} antwortet mit {status}", "en": "{url} answers {status}"},
    "health.unhealthy": {"de": "{url} antwortet mit {status}: die App meldet sich selbst als gestört",
                         "en": "{url} answers {status}: the app reports itself unhealthy"},
    "health.behind_proxy": {"de": "{url} nicht geprüft: Caddy erreicht die App nicht ({status}), siehe Erreichbarkeit",
                             "en": "{url} not judged: Caddy cannot reach the app ({status}), see reachability"},
    "health.down": {"de": "{url} nicht erreichbar ({error})", "en": "{url} unreachable ({error})"},
    "smoke.title": {"de": "Erreichbarkeit über Caddy", "en": "Reachability through Caddy"},
    "smoke.ok": {"de": "{url} antwortet mit {status}", "en": "{url} answers {status}"},
    "smoke.proxy_error": {"de": "{url} antwortet mit {status}: Caddy erreicht die App nicht",
                          "en": "{url} answers {status}: Caddy cannot reach the app"},
    "smoke.unexpected": {"de": "{url} antwortet mit {status}", "en": "{url} answers {status}"},
    "smoke.down": {"de": "{url} nicht erreichbar: Caddy läuft nicht oder lauscht nicht ({error})",
                   "en": "{url} unreachable: Caddy is down or not listening ({error})"},
    "smoke.no_url": {"de": "Keine öffentliche URL konfiguriert (SUPPORT_MCP_PUBLIC_URL)",
                     "en": "No public URL configured (SUPPORT_MCP_PUBLIC_URL)"},
    "firewall.title": {"de": "Firewall", "en": "Firewall"},
    "firewall.rules": {"de": "{tool}: {state}, eingehend {default}; Regeln für Port {port}: {rules}",
                       "en": "{tool}: {state}, incoming {default}; rules for port {port}: {rules}"},
    "firewall.none": {"de": "Firewall-Regeln nicht lesbar (weder ufw noch nft verfügbar)",
                      "en": "Firewall rules not readable (neither ufw nor nft available)"},
    "deploy.title": {"de": "Deploy-Stand (.next/BUILD_ID)", "en": "Deployed build (.next/BUILD_ID)"},
    "deploy.stale": {"de": "Build {build} ({built}) ist älter als das letzte Deployment ({deployed})",
                     "en": "Build {build} ({built}) is older than the last deployment ({deployed})"},
    "deploy.current": {"de": "Build {build} vom {built} ist aktuell (letztes Deployment: {deployed})",
                       "en": "Build {build} of {built} is current (last deployment: {deployed})"},
    "deploy.no_events": {"de": "Build {build} vom {built}; keine Deployments in support_automation_events",
                         "en": "Build {build} of {built}; no deployments in support_automation_events"},
    "deploy.previous_release": {"de": "{link} zeigt auf {current} (ohne Build); das vorige Release {release} hat "
                                      "einen Build ({stat})",
                                "en": "{link} points at {current} (no build); the previous release {release} has one "
                                      "({stat})"},
    "deploy.missing": {"de": "Kein Build: {path} fehlt", "en": "No build: {path} is missing"},
    "error.exit": {"de": "{title}: Befehl fehlgeschlagen (Exit-Code {code})",
                   "en": "{title}: command failed (exit code {code})"},
    "error.timeout": {"de": "{title}: Zeitüberschreitung nach {seconds} s", "en": "{title}: timed out after {seconds} s"},
    "error.start": {"de": "{title}: Befehl nicht ausführbar", "en": "{title}: command could not be run"},
    "error.parse": {"de": "{title}: Ausgabe nicht auswertbar", "en": "{title}: output could not be parsed"},
    # repairs
    "repair.restart": {"de": "PM2-Neustart von {app}", "en": "PM2 restart of {app}"},
    "repair.caddy": {"de": "Caddy-Konfiguration prüfen und neu laden", "en": "Validate and reload Caddy"},
    "repair.config": {"de": "Konfigurations-Fix in {path} (mit Backup)", "en": "Configuration fix in {path} (with backup)"},
    "repair.deploy": {"de": "Neu bauen und ausliefern (npm install, npm run build, PM2-Neustart)",
                      "en": "Rebuild and deploy (npm install, npm run build, PM2 restart)"},
    "repair.caddy_start": {"de": "Caddy starten (mit der konfigurierten Caddy-Konfiguration)",
                           "en": "Start Caddy (with the configured Caddyfile)"},
    "repair.caddy_restore": {"de": "Letzte gültige Caddy-Konfiguration wiederherstellen ({backup})",
                             "en": "Restore the last valid Caddy configuration ({backup})"},
    "repair.caddy_running": {"de": "Caddy läuft: {running}", "en": "Caddy running: {running}"},
    "repair.caddy_already_running": {"de": "Caddy läuft bereits; nichts zu starten",
                                     "en": "Caddy is already running; nothing to start"},
    "repair.backup_invalid": {"de": "Das Backup {backup} ist nicht (mehr) gültig",
                              "en": "The backup {backup} is not (or no longer) valid"},
    "repair.restored": {"de": "Fehlgeschlagen, {path} aus dem Backup {backup} wiederhergestellt",
                        "en": "Failed, {path} restored from the backup {backup}"},
    "repair.next_steps": {"de": "Nächste Schritte: Monitoring aktiv halten, PM2-Neustarts und Caddy-Fehler "
                                "in 30 min erneut prüfen.",
                          "en": "Next steps: keep monitoring on, re-check PM2 restarts and Caddy errors in "
                                "30 min."},
}


def text(language: Language, key: str, **values: object) -> str:
    """The user-facing text `key` in `language`."""
    return _TEXTS[key][language].format(**values)
