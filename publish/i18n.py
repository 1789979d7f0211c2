"""The public site's words in Albanian and English: one table, one lookup.

A page is in one language; a missing word is an error at render time (``KeyError``),
never a page that silently mixes languages.
"""

from __future__ import annotations

from publish.urls import Language

MESSAGES: dict[str, dict[Language, str]] = {
    "skip": {"sq": "Kalo te përmbajtja", "en": "Skip to content"},
    "navigation": {"sq": "Navigimi kryesor", "en": "Main navigation"},
    "home": {"sq": "Kreu", "en": "Home"},
    "search": {"sq": "Kërko", "en": "Search"},
    "open_data": {"sq": "Të dhëna të hapura", "en": "Open data"},
    "write": {"sq": "Na shkruani", "en": "Write to us"},
    "language_name": {"sq": "Shqip", "en": "English"},
    "switch_to": {"sq": "English", "en": "Shqip"},
    "switch_label": {"sq": "Read this page in English", "en": "Lexojeni këtë faqe në shqip"},
    "citizens_comments": {"sq": "Komentet e qytetarëve", "en": "Citizens' comments"},
    "intro": {
        "sq": "Komentet e qytetarëve për draftin e planit, të botuara pas moderimit, me "
              "përgjigjet e arsyetuara të qeverisë kur ka.",
        "en": "Citizens' comments on the draft plan, published after moderation, with the "
              "government's reasoned responses where given.",
    },
    "published_total": {"sq": "{count} të botuara gjithsej", "en": "{count} published in all"},
    "last_published": {"sq": "Botimi i fundit: {date}", "en": "Last published: {date}"},
    "statistics": {"sq": "Si i trajtojmë komentet: statistikat e moderimit",
                   "en": "How we treat your comments: moderation statistics"},
    "digests": {"sq": "Përmbledhjet javore", "en": "Weekly digests"},
    "feed_all": {"sq": "Ndiqni të gjitha komentet (Atom)", "en": "Follow all comments (Atom)"},
    "feed_label": {"sq": "Ndiqni komentet e kësaj teme (Atom)",
                   "en": "Follow the comments on this topic (Atom)"},
    "component": {"sq": "Komponenti", "en": "Component"},
    "commitment_no": {"sq": "Angazhimi {id}", "en": "Commitment {id}"},
    "lead": {"sq": "Institucioni drejtues", "en": "Lead institution"},
    "comment_on_this": {"sq": "Komentoni këtë angazhim", "en": "Comment on this commitment"},
    "comment_on_general": {"sq": "Na shkruani për planin", "en": "Write to us about the plan"},
    "newest_comments": {"sq": "Komentet më të reja", "en": "Newest comments"},
    "no_comments": {"sq": "Ende asnjë koment i botuar.", "en": "No published comments yet."},
    "all_pages": {"sq": "Të gjitha komentet, sipas faqeve", "en": "All comments, page by page"},
    "page_n": {"sq": "Faqja {number}", "en": "Page {number}"},
    "page_of": {"sq": "{title}: faqja {number}", "en": "{title}: page {number}"},
    "newer": {"sq": "Më të rejat", "en": "Newer"},
    "older": {"sq": "Më të vjetrat", "en": "Older"},
    "pages": {"sq": "Faqet", "en": "Pages"},
    "newest_first": {"sq": "Më të rejat në krye.", "en": "Newest first."},
    "no_subject": {"sq": "(pa subjekt)", "en": "(no subject)"},
    "read_comment": {"sq": "Lexoni komentin {reference}", "en": "Read comment {reference}"},
    "received": {"sq": "Marrë më", "en": "Received"},
    "published": {"sq": "Botuar më", "en": "Published"},
    "author": {"sq": "Autori", "en": "Author"},
    "anonymous": {"sq": "Anonim", "en": "Anonymous"},
    "reference": {"sq": "Numri i referencës", "en": "Reference number"},
    "about": {"sq": "Për", "en": "About"},
    "comment_text": {"sq": "Teksti i komentit", "en": "The comment"},
    "written_in": {"sq": "Komenti botohet në gjuhën që e shkroi qytetari.",
                   "en": "Comments are published in the language the citizen wrote them in."},
    "response": {"sq": "Përgjigja e arsyetuar", "en": "Reasoned response"},
    "response_link": {"sq": "Teksti i angazhimit", "en": "The commitment text"},
    "report_problem": {"sq": "Raportoni një problem me këtë koment",
                       "en": "Report a problem with this comment"},
    "comment_title": {"sq": "Komenti {reference}", "en": "Comment {reference}"},
    "footer": {
        "sq": "Komentet botohen pas moderimit, pa adresat dhe pa emrat e dërguesve, përveç kur "
              "ata kanë dhënë pëlqimin.",
        "en": "Comments are published after moderation, without senders' addresses, and "
              "without their names unless they agreed.",
    },
    "licence": {"sq": "Të dhënat: {licence}", "en": "Data: {licence}"},
    "search_title": {"sq": "Kërkoni në komente", "en": "Search the comments"},
    "data_title": {"sq": "Të dhëna të hapura", "en": "Open data"},
    "data_intro": {
        "sq": "Të gjitha komentet e botuara (dhe përgjigjet, kur ka) në CSV dhe JSON, të "
              "përshkruara në një paketë të dhënash Frictionless. Përditësohen në çdo botim.",
        "en": "Every published comment (and its response, where given) as CSV and JSON, "
              "described by a Frictionless data package. Updated on every publish.",
    },
    "data_files": {"sq": "Skedarët", "en": "The files"},
    "data_dictionary": {"sq": "Fjalori i të dhënave", "en": "Data dictionary"},
    "field": {"sq": "Fusha", "en": "Field"},
    "type": {"sq": "Lloji", "en": "Type"},
    "description": {"sq": "Përshkrimi", "en": "Description"},
    "csv_file": {"sq": "Komentet në CSV (UTF-8)", "en": "Comments as CSV (UTF-8)"},
    "json_file": {"sq": "Komentet në JSON", "en": "Comments as JSON"},
    "package_file": {"sq": "Përshkrimi i paketës (datapackage.json)",
                     "en": "The package descriptor (datapackage.json)"},
    "licence_title": {"sq": "Licenca", "en": "Licence"},
    "licence_text": {
        "sq": "Të dhënat mund t'i ripërdorni lirisht, duke përmendur burimin, sipas licencës "
              "{licence}.",
        "en": "You may reuse the data freely, citing the source, under the {licence} licence.",
    },
    "campaign": {"sq": "Fushatë", "en": "Campaign"},
    "campaign_title": {"sq": "Fushata {id}", "en": "Campaign {id}"},
    "campaign_senders": {"sq": "komente me këtë tekst, ose pothuajse të njëjtin",
                         "en": "comments with this text, or nearly the same"},
    "campaign_senders_one": {"sq": "koment me këtë tekst", "en": "comment with this text"},
    "campaign_explain": {
        "sq": "Shumë qytetarë dërguan të njëjtën letër. E botojmë një herë, me numrin e "
              "saktë të komenteve të botuara dhe me fjalitë që dërguesit shtuan vetë, pasi "
              "i ka parë një moderator. Çdo koment ka edhe faqen e vet, me numrin e tij "
              "të referencës.",
        "en": "Many citizens sent the same letter. We publish it once, with the true count "
              "of published comments and the sentences senders added themselves, once a "
              "moderator has read them. Every comment also has its own page, under its "
              "reference number.",
    },
    "additions": {"sq": "Çfarë shtuan vetë dërguesit", "en": "What senders added themselves"},
    "additions_more": {"sq": "Të gjitha shtesat ({count}), te faqja e fushatës",
                       "en": "All additions ({count}), on the campaign's page"},
    "campaign_page": {"sq": "Faqja e fushatës", "en": "The campaign's page"},
    "member_of": {
        "sq": "Ky koment është pjesë e një fushate: shumë qytetarë dërguan të njëjtin tekst. "
              "Këtu botohet teksti i fushatës",
        "en": "This comment is part of a campaign: many citizens sent the same text. "
              "Published here is the campaign's text",
    },
    "member_own": {"sq": "dhe çfarë shtoi vetë ky dërgues", "en": "and what this sender added"},
    "own_additions": {"sq": "Çfarë shtoi ky dërgues", "en": "What this sender added"},
    "first_published": {"sq": "Botuar për herë të parë më", "en": "First published"},
    "last_published_on": {"sq": "Botuar për herë të fundit më", "en": "Last published"},
}


def campaigns_summary(campaigns: int, campaign_comments: int, unique: int,
                      language: Language) -> str:
    """"1 fushatë me 500 komente; 12 komente të veçanta"; "1 campaign of 500 comments;
    12 unique comments"."""
    if language == "sq":
        grouped = (f"{campaigns} fushatë" if campaigns == 1 else f"{campaigns} fushata")
        alone = (f"{unique} koment i veçantë" if unique == 1
                 else f"{unique} komente të veçanta")
        return f"{grouped} me {comments_count(campaign_comments, 'sq')}; {alone}"
    grouped = f"{campaigns} campaign" if campaigns == 1 else f"{campaigns} campaigns"
    alone = f"{unique} unique comment" if unique == 1 else f"{unique} unique comments"
    return f"{grouped} of {comments_count(campaign_comments, 'en')}; {alone}"


def comments_count(count: int, language: Language) -> str:
    """"1 koment", "2 komente"; "1 comment", "2 comments"."""
    if language == "sq":
        return f"{count} koment" if count == 1 else f"{count} komente"
    return f"{count} comment" if count == 1 else f"{count} comments"


def translate(key: str, language: Language, **values: object) -> str:
    text = MESSAGES[key][language]
    return text.format(**values) if values else text
