"""The package's README, in Swedish for the archivist who receives it: what the package holds, how
to check it with only the public key, what the check covers, and a codebook of every column,
value and audit event kind. The event kinds are worded from the catalog (every `audit.action.`
key), so a new kind of event is described as soon as it has words."""

from __future__ import annotations

from datetime import datetime

from ....audit_keys import PublicKey
from ....i18n import keys, text
from ..archive import layout

# Every column of every table (export.TABLES; a test holds the two alike), in Swedish.
COLUMNS: dict[str, dict[str, str]] = {
    "activities": {
        "plan": "planens kortnamn (slug)",
        "code": "aktivitetens nummer i planen, t.ex. 1.2.3 (fokusområde.insatsområde.aktivitet)",
        "title": "aktivitetens rubrik",
        "owner": "ansvarig (användarnamn)",
        "office": "ansvarig förvaltning",
        "starts_on": "startdatum (ÅÅÅÅ-MM-DD)",
        "ends_on": "slutdatum (ÅÅÅÅ-MM-DD)",
        "state": "aktivitetens läge, se Aktivitetsläge",
        "status": "senast godkända status, se Status (tom: ännu ingen)",
        "demo": "True för demonstrationsdata, annars False",
    },
    "cycles": {
        "plan": "planens kortnamn",
        "period": "perioden, t.ex. 2026-Q4",
        "deadline": "sista dag för statusrapporter",
        "state": "omgångens läge, se Omgångsläge",
        "started_at": "när omgången startades (UTC, ISO 8601)",
        "reported_at": "när styrgruppens möte stängde omgången",
        "case_number": "styrgruppsrapportens diarienummer (tom: inget satt)",
    },
    "annual_reports": {
        "id": "årsrapportens nummer (beslutens subject_id)",
        "plan": "planens kortnamn",
        "year": "året rapporten gäller",
        "state": "årsrapportens läge, se Årsrapportläge",
        "compiled_at": "när processledaren sammanställde rapporten (UTC, ISO 8601)",
        "approved_at": "när styrgruppen godkände rapporten",
        "noted_at": "när kommunstyrelsens beslut att ta del av rapporten registrerades",
        "board_decided_on": "kommunstyrelsens sammanträdesdatum (ÅÅÅÅ-MM-DD)",
        "board_paragraph": "paragrafen (§) i kommunstyrelsens protokoll",
        "case_number": "årsrapportens diarienummer (tom: inget satt)",
    },
    "status_reports": {
        "id": "statusrapportens nummer",
        "period": "omgångens period",
        "activity": "aktivitetens nummer",
        "reporter": "den som rapporterade (användarnamn; den frånvarande om en ersättare rapporterade)",
        "status": "rapporterad status, se Status",
        "comment": "rapportörens kommentar",
        "cause": "orsak till avvikelse (gul eller röd)",
        "reported_at": "när rapporten lämnades",
        "review": "fokusområdesledarens granskning, se Granskning",
        "review_comment": "granskarens kommentar",
        "reviewed_by": "granskaren (användarnamn)",
        "reviewed_at": "när rapporten granskades",
    },
    "deviations": {
        "id": "avvikelsens nummer",
        "period": "omgången där avvikelsen öppnades",
        "activity": "aktivitetens nummer",
        "level": "avvikelsens nivå: yellow (gul) eller red (röd)",
        "cause": "orsak, som rapporterad",
        "recommendation": "processledarens rekommendation",
        "state": "avvikelsens läge, se Avvikelseläge",
        "opened_at": "när avvikelsen öppnades",
        "escalated_at": "när den eskalerades för att beslut dröjde",
        "decided_at": "när styrgruppen beslutade",
    },
    "decisions": {
        "id": "beslutets nummer",
        "body": "beslutande organ, se Beslutande organ",
        "subject_type": "vad beslutet gäller: deviation (avvikelse), proposal (förslag) eller annual_report"
        " (årsrapport)",
        "subject_id": "numret på avvikelsen, förslaget eller årsrapporten",
        "decision": "beslutet, se Beslut",
        "rationale": "motivering",
        "recorded_by": "den som registrerade beslutet (användarnamn)",
        "on_behalf_of": "den frånvarande ordförande som beslutet registrerades för",
        "decided_at": "när beslutet registrerades",
        "case_number": "beslutets diarienummer (tom: inget satt)",
    },
    "proposals": {
        "id": "förslagets nummer",
        "title": "föreslagen aktivitets rubrik",
        "proposed_by": "den som lade förslaget",
        "owner": "föreslagen ansvarig",
        "starts_on": "föreslaget startdatum",
        "ends_on": "föreslaget slutdatum",
        "why": "motivering",
        "state": "förslagets läge, se Förslagsläge",
        "activity": "aktiviteten som lades in i planen när förslaget godkändes",
        "created_at": "när förslaget skapades",
    },
    "mails": {
        "id": "utskickets nummer",
        "recipient": "mottagaren (användarnamn)",
        "template": "vilket slags meddelande (nyckel i planflows ordlista)",
        "subject": "ämnesraden, på mottagarens språk",
        "body": "texten, på mottagarens språk (utan hälsning och länkar som e-postmeddelandet också hade)",
        "channel": "mail (eget e-postmeddelande) eller digest (samlat i ett dagligt sammandrag)",
        "carried_by": "numret på sammandraget eller samlingsbrevet som bar meddelandet",
        "created_at": "när meddelandet skapades",
        "sent_at": "när e-postmeddelandet skickades",
    },
    "events": {
        "seq": "händelsens löpnummer i kedjan (1, 2, 3 …)",
        "occurred_at": "när händelsen skrevs (UTC)",
        "actor": "den som handlade (användarnamn; system för tidsstyrda steg; operator för"
        " serveradministratören)",
        "on_behalf_of": "den frånvarande som en ersättare handlade för",
        "role": "rollen personen handlade i",
        "action": "händelsens slag, se Händelseslag",
        "subject_type": "vad händelsen gäller",
        "subject_id": "vilket (nummer, kod, period eller år)",
        "data": "händelsens uppgifter (JSON)",
        "reason": "motivering eller kommentar",
        "prev_hash": "föregående händelses hash (64 nollor för den första)",
        "hash": "SHA-256 av händelsens kanoniska JSON",
    },
}

# Which columns of each table verify holds against the signed audit events, by the events that say
# them (records/consistency/derived.py maps events to records, for audit verify and archive verify
# alike; a test holds this to what it covers). Columns not named are covered by the manifest's
# signature only.
SIGNED_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "annual_reports": {
        "annual_report.compiled": ("compiled_at",),
        "annual_report.approved": ("approved_at",),
        "annual_report.noted": ("noted_at", "board_decided_on", "board_paragraph"),
        "händelsernas följd": ("state",),
    },
    "status_reports": {
        "status.reported": ("activity", "reporter", "status", "comment", "cause", "reported_at"),
        "status.accepted, status.returned": ("review", "review_comment", "reviewed_by", "reviewed_at"),
    },
    "deviations": {
        "deviation.opened": ("activity", "level", "cause", "opened_at"),
        "deviation.recommended": ("recommendation",),
        "deviation.escalated": ("escalated_at",),
        "deviation.owner_informed": ("decided_at",),
        "händelsernas följd": ("state",),
    },
    "decisions": {
        "deviation.decided, proposal.decided, annual_report.approved, annual_report.returned,"
        " annual_report.noted": (
            *("body", "subject_type", "subject_id", "decision", "rationale", "recorded_by", "on_behalf_of"),
        ),
        "deviation.decided, proposal.decided": ("decided_at",),
    },
    "proposals": {
        "proposal.submitted": ("title", "owner", "starts_on", "ends_on", "why"),
        "activity.added": ("activity",),
        "händelsernas följd": ("state",),
    },
    "issued_reports": {
        "report.issued": (
            *("plan", "kind", "subject", "number", "issued_by", "on_behalf_of", "checkpoint"),
            *("content_sha256", "files"),
        ),
    },
}

VALUES: dict[str, dict[str, str]] = {
    "Status": {
        "green": "grön: enligt plan",
        "yellow": "gul: avviker något",
        "red": "röd: går inte enligt plan",
    },
    "Aktivitetsläge": {"active": "pågår", "closed": "avslutad"},
    "Omgångsläge": {
        "opening": "öppnas (rapporter skapas)",
        "open": "pågår",
        "reported": "rapporterad till styrgruppen",
        "cancelled": "avbruten",
    },
    "Granskning": {"pending": "väntar på granskning", "accepted": "godkänd", "returned": "återsänd"},
    "Avvikelseläge": {
        "open": "väntar på processledarens rekommendation",
        "recommended": "väntar på fokusområdesledarens medhåll",
        "agreed": "väntar på styrgruppens beslut",
        "decided": "beslutad",
    },
    "Årsrapportläge": {
        "compiling": "sammanställs av processledaren",
        "compiled": "hos styrgruppen för godkännande",
        "approved": "godkänd av styrgruppen",
        "noted": "kommunstyrelsen har tagit del",
    },
    "Förslagsläge": {
        "drafting": "utkast hos fokusområdesledaren",
        "proposed": "hos processledaren",
        "checked": "hos styrgruppen",
        "approved": "godkänt och inlagt i planen",
        "rejected": "avslaget",
    },
    "Beslutande organ": {"steering_group": "styrgruppen", "board": "kommunstyrelsen"},
    "Beslut": {
        "approve": "godkänn (rekommendationen eller förslaget)",
        "reprioritise": "omprioritera",
        "close": "avsluta aktiviteten",
        "reject": "avslå",
        "return": "återsänd",
        "noted": "kommunstyrelsen har tagit del",
    },
}


def readme(made_at: datetime, package: str, public_key: PublicKey, csv_format: str) -> str:
    lines = [
        f"# planflow-arkiv {package}",
        "",
        f"Exporterat {made_at.isoformat()} av planflow. Paketet följer E-ARK CSIP 2.1, som FGS",
        "Paketstruktur 2.0 bygger på: METS.xml i roten beskriver paketet och listar varje fil med",
        f"SHA-256. Allt är vanlig text: JSON (UTF-8) och CSV ({csv_format}). Inget kräver planflow",
        "för att läsas.",
        "",
        "## Innehåll",
        "",
        "| sökväg | innehåll |",
        "| --- | --- |",
        "| METS.xml | paketbeskrivningen (METS 1.12, profil E-ARK CSIP) |",
        f"| {layout.DESCRIPTION} | beskrivande metadata: planerna, tidpunkt, antal händelser |",
        f"| {layout.PUBLIC_KEY} | den publika nyckeln (Ed25519) som verifierar signaturerna |",
        f"| {layout.MANIFEST} | SHA-256 för varje annan fil, och exportens signerade kontrollpunkt |",
        f"| {layout.SIGNATURE} | manifestets signatur (64 byte, Ed25519 över manifest.json) |",
        f"| {layout.PLANS} | planerna: fokusområden, insatsområden, aktiviteter |",
        f"| {layout.DATA}<tabell>.json och .csv | tabellerna nedan, samma rader i båda |",
        f"| {layout.ISSUED}, {layout.DATA}reports/ | utfärdade rapporter: innehållet och filerna"
        " som utfärdade |",
        f"| {layout.DATA}audit/events.json, events.csv | granskningsloggen: en händelse per beslut"
        " eller ändring |",
        f"| {layout.HEAD} | kedjans sista länk vid exporten |",
        f"| {layout.CHECKPOINTS} | kedjans huvud, signerat vid olika tidpunkter |",
        "| schemas/ | METS- och XLink-scheman och CSIP-tillägget, som METS.xml valideras mot |",
        "| documentation/README.md | den här filen |",
        "",
        "JSON-listorna (tabellerna, events.json, issued_reports.json, plans.json) är JSON-vektorer med ett",
        "element per rad.",
        "",
        "## Kontrollera paketet med bara den publika nyckeln",
        "",
        "Nyckeln i paketet visar bara att paketet stämmer med sig självt: den som ändrar paketet kan också",
        "byta nyckeln och signera om. Jämför därför nyckeln med den som kommunen har publicerat (till",
        "exempel i diariet eller på webbplatsen, `planflow audit public-key`), eller ange den publicerade:",
        "",
        "    planflow archive verify PAKET --public-key publicerad_nyckel.pem",
        "",
        "Kommandot behöver ingen databas. Utan planflow, med OpenSSL 3 och sha256sum:",
        "",
        f"    openssl pkeyutl -verify -pubin -inkey publicerad_nyckel.pem -rawin -in {layout.MANIFEST} \\",
        f"        -sigfile {layout.SIGNATURE}",
        "",
        "och jämför sedan varje fils SHA-256 (`sha256sum FIL`) med manifestets `files`.",
        "",
        f"Nyckelns fingeravtryck (SHA-256 av den råa publika nyckeln): {public_key.key_id}",
        "",
        "```",
        public_key.pem().strip(),
        "```",
        "",
        "`planflow archive verify` kontrollerar, och vägrar med en rad och felkod vid första fel:",
        "1. att manifestets signatur håller med nyckeln, och att varje fil har manifestets SHA-256 och",
        "   ingen annan fil finns (METS.xml och den här filen ingår);",
        "2. att varje händelses hash är SHA-256 av dess kanoniska JSON (sorterade nycklar, inga",
        "   mellanslag: seq, occurred_at, actor, on_behalf_of, role, action, subject_type, subject_id, data,",
        "   reason, prev_hash) och att varje händelse följer den förra (den första följer 64 nollor);",
        "3. att varje signerad kontrollpunkt håller med nyckeln och pekar på en händelse med den hash",
        "   den signerade, och att exportens kontrollpunkt (i manifestet) är kedjans sista händelse: en",
        "   bortklippt svans syns;",
        "4. att tabellernas rader stämmer med de signerade händelser de kommer från (se nedan), att varje",
        "   CSV säger detsamma som sin JSON, och att varje utfärdad rapports filer har den SHA-256 som",
        "   händelsen report.issued bär;",
        "5. att paketet är välformat: storlekar och JSON-djup har gränser, och filer läses i bitar.",
        "",
        "## Vilka kolumner händelserna täcker",
        "",
        "Händelserna i granskningsloggen är hashkedjade och signerade. Kolumnerna nedan kontrolleras mot",
        "dem, med samma regler som `planflow audit verify` använder för databasen; en databasadministratör",
        "som ändrat en sådan rad före exporten avslöjas. En rad som händelserna säger finns men som saknas",
        "avslöjas också, liksom en statusrapport, avvikelse, ett beslut, förslag eller en utfärdad rapport",
        "som ingen händelse nämner (en årsrapport som ännu inte sammanställts har ingen händelse). Övriga",
        "kolumner (perioder, diarienummer, aktivitetstabellen, omgångarna, utskicken) bärs inte av någon",
        "händelse: de skyddas av manifestets signatur, alltså bara från exporten och framåt. Händelser",
        "som en äldre planflow skrev bär färre uppgifter (till exempel inga tider); de kontrolleras på det",
        "de bär.",
        "",
    ]
    for table, sources in SIGNED_COLUMNS.items():
        said = "; ".join(f"{', '.join(columns)} ({source})" for source, columns in sources.items())
        lines.append(f"- {table}: {said}")
    lines += ["", "## Kodbok", ""]
    for table, columns in COLUMNS.items():
        name = "audit/events" if table == "events" else table
        lines += [f"### {name}", "", "| kolumn | betydelse |", "| --- | --- |"]
        lines += [f"| {column} | {meaning} |" for column, meaning in columns.items()]
        lines.append("")
    for heading, values in VALUES.items():
        lines += [f"### {heading}", "", "| värde | betydelse |", "| --- | --- |"]
        lines += [f"| {value} | {meaning} |" for value, meaning in values.items()]
        lines.append("")
    lines += ["### Händelseslag", "", "| action | betydelse |", "| --- | --- |"]
    for key in keys("audit.action."):
        lines.append(f"| {key.removeprefix('audit.action.')} | {text('sv', key)} |")
    lines.append("")
    return "\n".join(lines)
