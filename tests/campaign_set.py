"""A labelled set for campaign detection: form letters sent by many, among unrelated comments.

Pure and deterministic: the same seed gives the same items. Each item is a comment's text
and the form letter it was made from (``None`` for a comment of its own).

- Twenty form letters (twelve Albanian, eight English, 80-250 words, two on each of the ten
  commitments of the OGP Action Plan 2020-2022), each sent by many senders who change it the
  way people do: a different greeting and sign-off, a few words edited, cut short (the first
  50-90 % of its words), lower or upper case, typed without ë and ç, lines re-wrapped, and
  1-3 sentences of their own before or after it. Sentence order is kept.
- Unrelated comments on the same commitments, built from a small grammar (openers, actors,
  verbs, each commitment's own objects and problems, places, people, questions) so that they
  share the commitment's words, as real comments do, without being copies of each other.
- Short comments that many people send word for word ("Dakord me planin.") and that are no
  campaign: too short to tell a form letter from a common phrase.

``pair_scores`` gives the pairwise precision and recall of a grouping against the labels.
Used by ``tests/unit/intake/test_campaigns.py`` (a few hundred items) and
``bench/campaigns.py`` (100,000).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Letter:
    key: str
    language: str  # "sq" or "en"
    commitment: int
    text: str  # paragraphs separated by blank lines


@dataclass(frozen=True, slots=True)
class Item:
    text: str
    campaign: str | None  # the letter's key; None for a comment of its own


LETTERS: tuple[Letter, ...] = (
    Letter("sq-pronaret", "sq", 2, """\
Ne, qytetarët e nënshkruar më poshtë, ju shkruajmë në lidhje me angazhimin 2 të Planit të \
Veprimit për regjistrin e pronarëve përfitues.

Regjistri i pronarëve përfitues është krijuar me ligj, por sot ai nuk është i hapur për \
publikun. Gazetarët, organizatat e shoqërisë civile dhe bizneset e ndershme nuk mund të \
shohin se kush qëndron në të vërtetë pas kompanive që fitojnë tenderat publikë dhe \
koncesionet.

Kërkojmë që regjistri të hapet falas për këdo, në internet, me të dhëna të kërkueshme \
sipas emrit të kompanisë dhe emrit të pronarit, dhe që të dhënat të shkarkohen në format \
të hapur. Kërkojmë gjithashtu sanksione të qarta për kompanitë që nuk deklarojnë pronarët \
e tyre të vërtetë brenda afatit ligjor.

Transparenca e pronësisë është mjeti më i mirë kundër pastrimit të parave dhe korrupsionit \
në prokurimet publike."""),
    Letter("en-ownership", "en", 2, """\
We are writing on behalf of the Coalition for Open Ownership about commitment 2 of \
Albania's OGP Action Plan. Please open the beneficial ownership register to the public.

A register that only the tax administration and the banks can read does little to stop \
shell companies from winning public contracts. Citizens and reporters need to know who \
ultimately owns and controls the companies that build our roads, run our hospitals and \
collect our waste.

We ask the National Business Centre to publish the register online at no cost, to make it \
searchable by company and by person, to release the full data as a monthly open data file \
under an open licence, and to verify the declarations instead of simply filing them. \
Companies that give false information should lose the right to bid for public money.

Open ownership data is now the norm in the European Union, and Albania committed to it in \
this plan. We expect to see a date for it in the next progress report."""),
    Letter("sq-buxheti-bashkise", "sq", 9, """\
Si banorë të kësaj bashkie kërkojmë që bashkia të publikojë çdo muaj në faqen e saj \
zyrtare zbatimin e buxhetit: sa para janë mbledhur, sa janë shpenzuar dhe për çfarë. Sot \
buxheti publikohet një herë në vit, në një dokument të gjatë që pak njerëz arrijnë ta \
lexojnë.

Ne duam të dimë sa kushton riparimi i rrugës sonë, sa paguhet për ndriçimin publik dhe sa \
para shkojnë për kopshtet dhe shkollat. Këto të dhëna duhet të jenë në tabela të thjeshta \
që mund të shkarkohen dhe të krahasohen nga viti në vit.

Angazhimi 9 i Planit të Veprimit premton transparencë buxhetore. Ju lutemi ta zbatoni këtë \
premtim edhe në nivel vendor, jo vetëm në Ministrinë e Financave, dhe të na ftoni në \
dëgjesat publike para se buxheti i vitit të ardhshëm të miratohet nga këshilli bashkiak."""),
    Letter("en-citizens-budget", "en", 9, """\
I support the campaign of the Budget Watch network for a real citizens' budget.

Every year the Ministry of Finance and Economy publishes the budget law and a long annual \
report, but ordinary people cannot tell from them how much goes to their school, their \
health centre or their village road. A citizens' budget should explain in plain language \
where the money comes from and where it goes, with simple charts and examples.

We ask that the citizens' budget be published at the same time as the draft budget goes to \
Parliament, that monthly execution data be released as spreadsheets and not only as scanned \
documents, and that every municipality use the same format so figures can be compared.

Commitment 9 of the action plan promises exactly this. Please set a deadline and report \
on it publicly."""),
    Letter("sq-integriteti", "sq", 1, """\
Të nderuar përfaqësues të Ministrisë së Drejtësisë,

Planet e integritetit janë një hap i mirë, por vetëm nëse zbatohen dhe monitorohen. Deri \
tani shumë ministri i kanë miratuar këto plane në letër, pa treguar se cilat rreziqe \
korrupsioni kanë gjetur dhe çfarë masash kanë marrë për t'i ulur ato.

Kërkojmë që çdo institucion qendror të publikojë planin e vet të integritetit, vlerësimin \
e riskut dhe një raport vjetor për zbatimin e masave. Raportet duhet të tregojnë edhe \
rastet kur punonjësit kanë sinjalizuar shkelje dhe si janë trajtuar ato sinjalizime.

Pa këtë informacion, qytetarët nuk kanë asnjë mënyrë për të ditur nëse planet e \
integritetit kanë ndryshuar diçka në praktikë. Ju lutemi të përfshini në angazhimin 1 \
tregues të matshëm dhe afate të qarta."""),
    Letter("en-integrity", "en", 1, """\
Integrity plans only work if the public can check them. Under commitment 1 every central \
institution is supposed to assess its own corruption risks and adopt an integrity plan, yet \
almost none of these plans can be found on the ministries' websites.

On behalf of the members of our anti-corruption network, we ask the government to:
- publish every integrity plan and risk assessment in full;
- publish a yearly report on which measures were carried out and which were not;
- name an integrity officer in each institution whom citizens can contact;
- ask an independent body, not the ministries themselves, to evaluate the results.

Corruption risks in public procurement, licensing and inspections are well known. An \
integrity plan that stays in a drawer protects nobody. We would welcome a meeting to \
discuss how civil society can help monitor this commitment."""),
    Letter("sq-vula-elektronike", "sq", 3, """\
Përmes kësaj letre kërkojmë thjeshtimin e shërbimeve në e-Albania.

Shumë shërbime elektronike kërkojnë ende vulë elektronike ose nënshkrim elektronik, të \
cilat qytetarët e zakonshëm dhe bizneset e vogla nuk i kanë. Në fund, njerëzit detyrohen \
të shkojnë në sportel, të presin në radhë dhe të paguajnë ndërmjetës, gjë që e humbet \
qëllimin e qeverisjes elektronike.

Propozojmë që për shërbimet më të përdorura, si vërtetimet e gjendjes civile, certifikatat \
e pronësisë dhe lejet e thjeshta, të mjaftojë identifikimi me fjalëkalim dhe kod me SMS. \
Po ashtu kërkojmë që çdo dokument i lëshuar online të pranohet nga të gjitha institucionet \
pa u printuar dhe pa u vulosur përsëri.

Angazhimi 3 duhet të matet me numrin e shërbimeve që qytetari i merr plotësisht online, jo \
me numrin e formularëve të vendosur në portal."""),
    Letter("sq-diaspora", "sq", 3, """\
Jemi emigrantë shqiptarë që jetojmë në Itali, Greqi dhe Gjermani dhe ju shkruajmë për \
shërbimet elektronike për diasporën.

Për një certifikatë familjare apo një prokurë duhet të marrim leje nga puna dhe të \
udhëtojmë deri në konsullatë, ose të paguajmë dikë në Shqipëri. Portali e-Albania nuk \
pranon regjistrimin me pasaportë të huaj dhe shpesh nuk funksionon jashtë vendit.

Ju kërkojmë që shërbimet kryesore për shtetasit jashtë vendit të jenë plotësisht \
elektronike, me pagesë online dhe me dërgim të dokumentit me postë elektronike. Kërkojmë \
gjithashtu një numër telefoni dhe një adresë ku mund të ankohemi kur një shërbim nuk punon.

Diaspora dërgon çdo vit para në Shqipëri dhe meriton një shtet që i shërben pa e detyruar \
të kthehet vetëm për një letër."""),
    Letter("sq-te-dhenat-hapura", "sq", 4, """\
Ju shkruajmë si grup studentësh dhe programuesish që përdorin të dhënat publike për \
projekte me vlerë shoqërore.

Portali i të dhënave të hapura ka pak grupe të dhënash, shumë prej tyre të vjetra dhe në \
formate që nuk lexohen nga kompjuteri. Shpesh gjejmë vetëm një tabelë të skanuar ose një \
skedar që nuk është përditësuar që prej disa vitesh.

Kërkojmë që çdo institucion të ketë një plan publikimi me afate, që të dhënat për \
prokurimet, buxhetin, transportin dhe mjedisin të publikohen në format të hapur dhe me \
licencë të hapur, dhe që portali të ofrojë një ndërfaqe programimi. Kërkojmë edhe një \
mënyrë që përdoruesit të kërkojnë grupe të reja të dhënash dhe të marrin përgjigje brenda \
një afati.

Të dhënat e hapura krijojnë punë, studime dhe shërbime të reja vetëm kur janë të plota dhe \
të besueshme."""),
    Letter("en-open-data", "en", 4, """\
As members of the Open Data Albania community we write to comment on commitment 4, the \
open data portal.

The portal today lists a few hundred datasets, but many links are broken, many files are \
years old and most of them are PDF tables that cannot be reused. Developers and \
journalists end up asking for the same data again and again through freedom of \
information requests.

We propose three simple rules. First, every dataset must state who is responsible for it \
and when it will next be updated. Second, data must be published in machine-readable \
formats such as CSV or JSON under an open licence. Third, high-value data on procurement, \
budgets, company registration and air quality must be released first, with an API.

We also ask for a public dashboard that shows, institution by institution, how many \
datasets were promised and how many were actually delivered."""),
    Letter("sq-qendrat-sherbimit", "sq", 5, """\
Jemi banorë të zonave rurale dhe ju shkruajmë për qendrat e integruara të shërbimeve \
publike të ADISA-s.

Qendrat e reja janë të pastra dhe të organizuara, por ndodhen vetëm në qytetet e mëdha. \
Për të marrë një dokument, një i moshuar nga fshati duhet të udhëtojë me orë të tëra dhe \
shpesh të kthehet disa herë, sepse një sportel kërkon një letër që lëshohet nga një \
institucion tjetër.

Kërkojmë që të hapen qendra të vogla shërbimi në njësitë administrative, ose të paktën një \
sportel i lëvizshëm që vjen rregullisht në fshatra. Kërkojmë gjithashtu që dokumentet që \
shteti i ka vetë të mos u kërkohen më qytetarëve.

Shërbimi i mirë publik duhet të jetë i njëjtë për banorët e qytetit dhe për ata të \
fshatit."""),
    Letter("sq-monitorimi-sherbimit", "sq", 6, """\
Ne, anëtarët e rrjetit të monitoruesve qytetarë, ju paraqesim disa propozime për \
angazhimin 6.

Monitorimi i shërbimeve në qendrat e integruara bëhet sot nga vetë ADISA, dhe rezultatet \
nuk publikohen. Qytetarët plotësojnë ndonjëherë një pyetësor në tabletin e sportelit, por \
askush nuk e di se çfarë ndodh me përgjigjet e tyre.

Propozojmë që çdo muaj të publikohen për çdo qendër koha mesatare e pritjes, numri i \
ankesave, sa prej tyre janë zgjidhur dhe vlerësimi i qytetarëve. Propozojmë gjithashtu që \
organizatat e shoqërisë civile të kenë të drejtë të bëjnë vizita monitorimi pa njoftim \
paraprak dhe që raportet e tyre të publikohen në faqen e ADISA-s.

Vetëm një monitorim i pavarur dhe publik mund ta përmirësojë vërtet cilësinë e \
shërbimit."""),
    Letter("en-monitoring", "en", 6, """\
Dear Sir or Madam,

Please make the monitoring of service delivery at the integrated service centres public \
and independent.

Today the agency that runs the centres also measures their performance, and the figures \
are not published. We ask that waiting times, complaints received and resolved, and user \
satisfaction be published every month for each centre, in a format that can be \
downloaded. Mystery shopping visits by civil society should be part of the method, and \
their reports should be published without edits.

Complaints made at a counter should receive a reference number and an answer within a \
fixed number of days. People who cannot use a tablet should be able to give feedback on \
paper or by phone.

Only what is measured openly gets better."""),
    Letter("sq-konsultimi-ligjet", "sq", 7, """\
Ju shkruaj në emër të një koalicioni organizatash për angazhimin 7, përafrimin e \
legjislacionit me standardet më të mira.

Ligji për njoftimin dhe konsultimin publik nuk zbatohet si duhet. Projektligjet vendosen \
në portalin e konsultimeve me afate shumë të shkurtra, shpesh gjatë pushimeve, dhe \
institucionet rrallë shpjegojnë pse i kanë pranuar ose refuzuar komentet e qytetarëve.

Kërkojmë që afati minimal i konsultimit prej njëzet ditësh të respektohet gjithmonë, që \
për çdo projektligj të publikohet një raport i konsultimit me të gjitha komentet dhe \
përgjigjet, dhe që Komisioneri për të Drejtën e Informimit të ketë fuqi të gjobisë kur \
ligji shkelet.

Përafrimi me praktikat e Bashkimit Evropian nuk mjafton në letër; ai duhet të ndihet në \
mënyrën si hartohen ligjet."""),
    Letter("en-legal-aid", "en", 7, """\
Free legal aid exists in the law but not yet in the lives of most people who need it.

We are a group of lawyers and law students who volunteer at legal clinics. Every week we \
meet people who were refused legal aid because of paperwork, who never heard of the \
primary legal aid centres, or who live too far from the nearest court. Women who have \
suffered violence, Roma and Egyptian families and elderly people in rural areas are hit \
hardest.

We ask that commitment 7 include the opening of legal aid centres in every judicial \
district, a simple one-page application form, and a public register of decisions on legal \
aid requests. The law on legal aid should also be brought in line with the standards of \
the Council of Europe on access to justice."""),
    Letter("sq-vendimet-gjykatave", "sq", 8, """\
Kërkojmë publikimin e të gjitha vendimeve gjyqësore në internet.

Sot vetëm një pjesë e vendimeve të gjykatave publikohen, shpesh me muaj vonesë dhe pa një \
motor kërkimi që funksionon. Avokatët, studentët e drejtësisë dhe gazetarët nuk mund të \
ndjekin se si gjykohen çështjet e korrupsionit apo çështjet e pronës.

Propozojmë që çdo vendim përfundimtar të publikohet brenda tridhjetë ditësh, i anonimizuar \
për të mbrojtur të dhënat personale të palëve, dhe që kalendari i seancave gjyqësore të \
jetë publik dhe i përditësuar. Kërkojmë gjithashtu statistika vjetore për kohëzgjatjen e \
proceseve në çdo gjykatë.

Drejtësia që nuk shihet nuk mund të fitojë besimin e qytetarëve. Angazhimi 8 është një \
mundësi që nuk duhet humbur."""),
    Letter("en-justice-transparency", "en", 8, """\
I am writing to support greater accountability and transparency in the justice system, \
as foreseen in commitment 8.

The vetting process has shown how little the public knew about the assets and decisions of \
judges and prosecutors. The Ministry of Justice, the High Judicial Council and the courts \
should publish their annual reports, their budgets and their statistics on case backlogs \
in one place, and keep them up to date.

Court hearings should be announced in advance, and journalists should be able to attend \
them without asking for special permission. Disciplinary decisions against judges should \
be published with their reasons.

Trust in justice is rebuilt through openness, not through announcements. I hope the final \
plan includes clear indicators and a timetable for each of these steps."""),
    Letter("sq-te-ardhurat-publike", "sq", 10, """\
Ne, grupi i organizatave për transparencë fiskale, ju shkruajmë për angazhimin 10, \
transparencën e të ardhurave publike.

Qytetarët nuk e dinë sa para mbledh shteti nga koncesionet, nga minierat, nga hidrocentralet \
dhe nga tarifat e ndryshme. Raportet e tatimeve dhe doganave publikohen vetëm si shifra \
totale, pa ndarje sipas sektorit dhe sipas bashkisë.

Kërkojmë që të ardhurat nga taksat, doganat, rentat minerare dhe kontratat koncesionare të \
publikohen çdo tremujor në format të hapur, me ndarje sipas burimit dhe sipas territorit. \
Kërkojmë gjithashtu publikimin e plotë të kontratave koncesionare dhe të pagesave që \
kompanitë i bëjnë shtetit.

Vetëm kështu mund të kuptojmë nëse burimet tona natyrore po na sjellin të ardhurat që \
meritojmë."""),
    Letter("en-revenue", "en", 10, """\
Dear members of the working group,

We write to you about the transparency of public revenue. Albania collects money from \
taxes, customs duties, excise, fees and concessions, yet the public sees only a few \
totals in the monthly fiscal bulletin.

We ask that revenue be reported every month by type and by region, that tax expenditures \
such as exemptions and special regimes be published with their estimated cost, and that \
the government join the Extractive Industries Transparency Initiative reporting in full, \
including payments by each mining and oil company.

Clear revenue data helps citizens see whether the tax burden is fair and whether \
concessions pay what they promised. It also helps honest businesses that pay their taxes \
on time. Please make commitment 10 measurable, with a list of the reports to be \
published and their dates."""),
    Letter("sq-sportel-fshat", "sq", 5, """\
Përshëndetje nga banorët e Njësisë Administrative Lekas.

Prej dy vitesh zyra e gjendjes civile dhe sporteli i pronave në njësinë tonë janë të \
mbyllura shumicën e ditëve. Për çdo vërtetim duhet të shkojmë në qendrën e integruar në \
qytet, ku radha fillon që në orën gjashtë të mëngjesit.

Kërkojmë rihapjen e sportelit në njësinë administrative të paktën dy ditë në javë, me një \
punonjës që di të përdorë sistemet e reja elektronike, dhe një orar të publikuar që \
respektohet. Ne nuk kërkojmë privilegje, por të njëjtin shërbim që marrin banorët e \
qytetit."""),
)

# --- how senders change a letter -------------------------------------------------------

FIRST_NAMES = ("Arben", "Blerina", "Dritan", "Elona", "Fatjon", "Gentiana", "Ilir", "Jonida",
               "Klodian", "Lindita", "Mimoza", "Nertil", "Orjela", "Petrit", "Rezarta",
               "Sokol", "Teuta", "Valbona", "Xhevdet", "Zamira", "Ardit", "Besnik", "Erion",
               "Klea", "Anisa", "Gëzim", "Luljeta", "Mirela", "Ervis", "Dorina")
LAST_NAMES = ("Hoxha", "Shehu", "Kola", "Leka", "Marku", "Gjoka", "Dervishi", "Çela", "Prifti",
              "Duka", "Zeneli", "Bregu", "Kuçi", "Lika", "Tafaj", "Gjini", "Hysa", "Krasniqi",
              "Berisha", "Muça", "Dedja", "Sinani", "Koçi", "Lleshi")
CITIES = ("Tiranë", "Durrës", "Shkodër", "Elbasan", "Vlorë", "Korçë", "Fier", "Berat", "Lushnjë",
          "Kavajë", "Pogradec", "Gjirokastër", "Sarandë", "Lezhë", "Kukës", "Dibër", "Librazhd",
          "Tepelenë", "Përmet", "Kamëz", "Vorë", "Mat", "Mirditë", "Has")

GREETINGS = {
    "sq": ("Të nderuar,", "Përshëndetje,", "Përshëndetje!", "I nderuar sekretariat,",
           "Të nderuar zonja dhe zotërinj,", "Mirëdita,", "Pershendetje,", "Tungjatjeta,",
           "Të nderuar përfaqësues të Kryeministrisë,", ""),
    "en": ("Dear Sir or Madam,", "Hello,", "Dear secretariat,", "Good morning,",
           "To whom it may concern,", "Dear OGP team,", "Hi,", ""),
}
SIGN_OFFS = {
    "sq": ("Me respekt,\n{name}", "Faleminderit", "Faleminderit,\n{name}",
           "Ju faleminderit për vëmendjen,\n{name}", "Përshëndetje,\n{name}", "{name}",
           "Me konsideratë,\n{name}\n{city}", "Sinqerisht,\n{name}", "Me respekt, {name}",
           "Në pritje të përgjigjes suaj,\n{name}", ""),
    "en": ("Kind regards,\n{name}", "Sincerely,\n{name}", "Thank you for your attention.\n{name}",
           "Best wishes,\n{name}", "Thanks", "Yours faithfully,\n{name}\n{city}",
           "Regards, {name}", "Looking forward to your reply,\n{name}", "{name}", ""),
}
# Word swaps people make when they edit a letter (both ways).
SWAPS = {
    "sq": (("kërkojmë", "kërkoj"), ("ne", "unë"), ("duhet", "do të duhej"), ("çdo", "secili"),
           ("qytetarët", "njerëzit"), ("shumë", "tepër"), ("gjithashtu", "po ashtu"),
           ("publikohen", "bëhen publike"), ("sot", "aktualisht"), ("por", "mirëpo"),
           ("institucion", "ent"), ("të paktën", "së paku"), ("kështu", "në këtë mënyrë"),
           ("propozojmë", "propozoj"), ("ju", "juve"), ("vetëm", "thjesht")),
    "en": (("we", "I"), ("ask", "request"), ("should", "must"), ("every", "each"),
           ("people", "citizens"), ("public", "general public"), ("today", "at the moment"),
           ("also", "as well"), ("simple", "easy"), ("yet", "but"), ("please", "kindly"),
           ("help", "support"), ("clear", "precise"), ("only", "just")),
}
FILLERS = {"sq": ("vërtet", "shumë", "edhe", "patjetër", "sigurisht", "me të vërtetë"),
           "en": ("really", "very", "also", "certainly", "indeed", "clearly")}


def strip_diacritics(text: str) -> str:
    """Albanian as typed on a keyboard without ë and ç (ë -> e, ç -> c)."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                if not unicodedata.combining(c)))


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _edit_words(rng: random.Random, text: str, language: str, edits: int) -> str:
    """``edits`` small changes: a word swapped for a near synonym, dropped, added, or mistyped."""
    tokens = re.split(r"(\s+)", text)  # words at even positions, whitespace at odd ones
    swaps = dict(SWAPS[language]) | {b: a for a, b in SWAPS[language]}
    word_positions = [i for i in range(0, len(tokens), 2) if tokens[i]]
    for _ in range(edits):
        position = rng.choice(word_positions[1:])
        word = tokens[position]
        bare = word.strip(".,;:!?").lower()
        kind = rng.random()
        if bare in swaps and kind < 0.6:
            tokens[position] = word.lower().replace(bare, swaps[bare], 1)
        elif kind < 0.7 and not word.endswith((".", ",", ":", ";")):
            tokens[position] = ""  # a word left out
        elif kind < 0.85:
            tokens[position] = f"{rng.choice(FILLERS[language])} {word}"
        elif len(word) > 4:
            cut = rng.randrange(1, len(word) - 2)  # two letters swapped: a typo
            tokens[position] = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2:]
    return re.sub(r"[ \t]{2,}", " ", "".join(tokens))


def _truncate(rng: random.Random, text: str) -> str:
    """The first 50-90 % of the words: a letter pasted or forwarded in part."""
    ends = [match.end() for match in re.finditer(r"\S+", text)]
    keep = round(len(ends) * rng.uniform(0.5, 0.9))
    cut = text[:ends[keep - 1]].rstrip(",;:")
    return cut + rng.choice(("", "", "...", " …"))


def _rewrap(rng: random.Random, text: str) -> str:
    """Lines broken again, as a mail client or a paste does."""
    if rng.random() < 0.5:  # paragraphs run together
        return re.sub(r"\s*\n\s*\n\s*", rng.choice((" ", "\n")), text)
    width = rng.choice((60, 72, 76))
    lines = []
    for paragraph in text.split("\n\n"):
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line + "\n")
    return "\n".join(lines).strip()


def copy_of(rng: random.Random, letter: Letter) -> str:
    """One sender's version of ``letter``."""
    language = letter.language
    body = letter.text
    # The letters' own salutation and closing give way to the sender's, now and then.
    if rng.random() < 0.75:
        body = _edit_words(rng, body, language, rng.choice((0, 1, 1, 2, 3, 4, 5)))
    if rng.random() < 0.3:
        body = _truncate(rng, body)
    own = ""
    if rng.random() < 0.4:
        own = " ".join(sentence(rng, language, letter.commitment)
                       for _ in range(rng.randint(1, 3)))
    greeting = rng.choice(GREETINGS[language])
    sign_off = rng.choice(SIGN_OFFS[language]).format(name=_name(rng),
                                                      city=rng.choice(CITIES))
    parts = [greeting]
    if own and rng.random() < 0.3:
        parts += [own, body]
    else:
        parts += [body, own]
    parts.append(sign_off)
    text = "\n\n".join(part for part in parts if part)
    if rng.random() < 0.3:
        text = _rewrap(rng, text)
    case = rng.random()
    if case < 0.15:
        text = text.lower()
    elif case < 0.18:
        text = text.upper()
    if language == "sq" and rng.random() < 0.45:
        text = strip_diacritics(text)
    return text


# --- comments of their own ---------------------------------------------------------------

# Per commitment: what people ask for (an object after a verb), and what they complain of.
OBJECTS = {
    "sq": {
        1: ("planet e integritetit", "vlerësimin e riskut të korrupsionit",
            "raportet për sinjalizuesit", "rregullat për konfliktin e interesit",
            "deklaratat e pasurisë së zyrtarëve", "kodin e etikës për nëpunësit",
            "masat kundër korrupsionit në ministri"),
        2: ("regjistrin e pronarëve përfitues", "emrat e pronarëve të vërtetë të kompanive",
            "të dhënat e Qendrës Kombëtare të Biznesit", "pronësinë e kompanive offshore",
            "listën e aksionarëve të firmave që fitojnë tendera", "deklarimet e pronësisë"),
        3: ("shërbimet në e-Albania", "aplikimet online për pasaportë",
            "vulën elektronike për qytetarët", "certifikatat elektronike",
            "pagesat online të tarifave", "portalin e shërbimeve qeveritare",
            "regjistrimin e biznesit online"),
        4: ("portalin e të dhënave të hapura", "të dhënat e prokurimeve",
            "skedarët CSV të institucioneve", "të dhënat për cilësinë e ajrit",
            "statistikat e transportit publik", "të dhënat e regjistrit të adresave",
            "ndërfaqen e programimit për të dhënat"),
        5: ("qendrat e integruara të shërbimit", "sportelet e ADISA-s",
            "orarin e qendrave të shërbimit", "shërbimet për të moshuarit në sportel",
            "qendrën e shërbimeve në qytetin tonë", "radhët te sportelet e pronave"),
        6: ("monitorimin e shërbimeve në qendrat e ADISA-s", "kohën e pritjes në sportele",
            "ankesat e qytetarëve për shërbimin", "pyetësorët e kënaqësisë",
            "raportet e monitorimit të cilësisë", "vlerësimin e punonjësve të sporteleve"),
        7: ("ligjin për ndihmën juridike falas", "konsultimin publik të projektligjeve",
            "përafrimin e ligjeve me acquis-në e BE-së", "afatet e konsultimit",
            "ligjin për të drejtën e informimit", "praktikat më të mira evropiane"),
        8: ("vendimet e gjykatave", "kalendarin e seancave gjyqësore",
            "raportet e Këshillit të Lartë Gjyqësor", "statistikat e çështjeve në pritje",
            "masat disiplinore ndaj gjyqtarëve", "buxhetin e sistemit të drejtësisë"),
        9: ("buxhetin e bashkisë", "buxhetin e qytetarëve", "shpenzimet publike",
            "zbatimin e buxhetit çdo muaj", "investimet publike në lagje",
            "dëgjesat publike për buxhetin", "borxhin e bashkisë"),
        10: ("të ardhurat nga taksat", "të ardhurat nga doganat", "rentën minerare",
             "kontratat koncesionare", "përjashtimet nga tatimi", "të ardhurat e bashkive",
             "pagesat e kompanive naftëtare"),
    },
    "en": {
        1: ("the integrity plans", "the corruption risk assessments",
            "the whistleblower reports", "the conflict of interest rules",
            "the asset declarations of officials", "the code of ethics for civil servants"),
        2: ("the beneficial ownership register", "the real owners of companies",
            "the data of the National Business Centre", "offshore company ownership",
            "the shareholders of firms that win tenders", "ownership declarations"),
        3: ("the services on e-Albania", "online passport applications",
            "electronic signatures for citizens", "electronic certificates",
            "online payment of fees", "the government services portal"),
        4: ("the open data portal", "procurement data", "datasets in CSV",
            "air quality data", "public transport statistics", "an open data API"),
        5: ("the integrated service centres", "the ADISA counters",
            "the opening hours of service centres", "services for elderly people",
            "the service centre in our town", "the queues at the property office"),
        6: ("the monitoring of service delivery", "waiting times at the counters",
            "citizens' complaints about services", "satisfaction surveys",
            "the quality monitoring reports", "the evaluation of counter staff"),
        7: ("the law on free legal aid", "public consultation on draft laws",
            "alignment of laws with the EU acquis", "consultation deadlines",
            "the right to information law", "European best practice"),
        8: ("court decisions", "the calendar of court hearings",
            "the reports of the High Judicial Council", "statistics on case backlogs",
            "disciplinary measures against judges", "the justice system budget"),
        9: ("the municipal budget", "the citizens' budget", "public spending",
            "monthly budget execution", "public investment in neighbourhoods",
            "public budget hearings", "municipal debt"),
        10: ("tax revenue", "customs revenue", "mining royalties", "concession contracts",
             "tax exemptions", "municipal revenue", "payments by oil companies"),
    },
}
PROBLEMS = {
    "sq": {
        1: ("askush nuk e di kush e zbaton planin e integritetit",
            "sinjalizuesit kanë frikë se do të humbasin punën",
            "zyrtarët emërojnë të afërmit e tyre pa asnjë pasojë",
            "punësimet në administratë bëhen pa konkurs të hapur",
            "askush nuk kontrollon dhuratat që marrin zyrtarët",
            "raporti i riskut u mbajt sekret nga drejtori"),
        2: ("kompanitë fshihen pas administratorëve fiktivë",
            "të njëjtët njerëz fitojnë tenderat me emra të ndryshëm firmash",
            "regjistri është i mbyllur edhe për gazetarët",
            "një firmë me kapital njëqind lekë mori një kontratë milionëshe",
            "pronari i vërtetë i kompanisë së parkimit nuk dihet",
            "bankat e dinë kush janë pronarët por publiku jo"),
        3: ("faqja e e-Albania bllokohet kur aplikojnë shumë njerëz",
            "na kërkohet të printojmë dokumentin që e morëm online",
            "pa vulë elektronike nuk mund të aplikosh për asgjë",
            "aplikimi për lejen e ndërtimit dështoi tri herë rresht",
            "fjalëkalimi im u bllokua dhe askush nuk u përgjigj në telefon",
            "gjyshja ime nuk di të përdorë kompjuterin dhe nuk ka kë të pyesë"),
        4: ("skedarët e publikuar janë të vjetër dhe të paplotë",
            "shumë lidhje në portal nuk funksionojnë",
            "të dhënat jepen vetëm si PDF të skanuar",
            "tabela e buxhetit kishte kolona pa emër",
            "kërkesa ime për të dhëna mbeti pa përgjigje dy muaj",
            "të dhënat e autobusëve urbanë nuk gjenden askund"),
        5: ("prita mbi tre orë në radhë për një certifikatë",
            "sporteli i pronave ishte i mbyllur pa asnjë njoftim",
            "më dërguan nga një zyrë te tjetra gjithë ditën",
            "punonjësja na tha të vinim nesër sepse sistemi kishte rënë",
            "nuk ka rampë për karrocat e personave me aftësi të kufizuara",
            "biletat e radhës mbarojnë para orës nëntë"),
        6: ("ankesa ime nuk mori kurrë përgjigje",
            "pyetësori në tabletë nuk punonte",
            "askush nuk e publikon kohën e pritjes",
            "numri i ankesave nuk del në asnjë raport",
            "askush nuk më pyeti si ishte shërbimi",
            "kutia e ankesave në hyrje ishte e mbyllur me çelës"),
        7: ("projektligjet vendosen për konsultim vetëm për pak ditë",
            "komentet tona nuk u morën parasysh dhe askush nuk shpjegoi pse",
            "ndihma juridike falas nuk arrin në fshatra",
            "ligji u miratua para se të mbyllej konsultimi",
            "qendra e ndihmës juridike ishte e mbyllur kur shkova",
            "formulari për ndihmë ligjore ka dhjetë faqe"),
        8: ("vendimet publikohen me muaj vonesë",
            "seancat shtyhen pa u njoftuar palët",
            "nuk gjen dot asnjë vendim me motorin e kërkimit",
            "çështja ime për pronën zgjat që prej tetë vjetësh",
            "gazetarët nuk u lejuan në sallën e gjyqit",
            "nuk gjej dot statistikat e gjykatës së apelit"),
        9: ("nuk e dimë sa kushtoi rikonstruksioni i sheshit",
            "buxheti publikohet vetëm në fund të vitit",
            "dëgjesa publike u bë në orar pune dhe pa njoftim",
            "paratë për kopshtin u shpenzuan për një shatërvan",
            "këshilli bashkiak votoi buxhetin pa e diskutuar",
            "tabela e investimeve nuk ka asnjë shifër për fshatrat"),
        10: ("nuk dihet sa paguajnë koncesionarët",
             "bashkia nuk tregon sa mbledh nga taksa e pronës",
             "shifrat e doganave jepen vetëm si totale",
            "taksa e ndërtesës mblidhet por nuk dihet ku shkon",
            "kompania e minierës paguan më pak se një fermer",
            "raporti i tatimeve doli me gjashtë muaj vonesë"),
    },
    "en": {
        1: ("nobody knows who implements the integrity plan",
            "whistleblowers are afraid of losing their jobs",
            "officials appoint their relatives without any consequence",
            "hiring in the administration happens without open competition",
            "nobody checks the gifts officials receive",
            "the risk report was kept secret by the director"),
        2: ("companies hide behind nominee directors",
            "the same people win tenders under different company names",
            "the register is closed even to journalists",
            "a firm with almost no capital won a contract worth millions",
            "the real owner of the parking company is unknown",
            "the banks know who the owners are but the public does not"),
        3: ("the e-Albania site crashes when many people apply",
            "we are asked to print the document we received online",
            "without an electronic seal you cannot apply for anything",
            "my building permit application failed three times in a row",
            "my password was blocked and nobody answered the phone",
            "my grandmother cannot use a computer and has nobody to ask"),
        4: ("the published files are old and incomplete",
            "many links on the portal are broken",
            "the data are only given as scanned PDFs",
            "the budget table had columns without names",
            "my request for data went unanswered for two months",
            "city bus data cannot be found anywhere"),
        5: ("I waited more than three hours in line for a certificate",
            "the property counter was closed without any notice",
            "I was sent from one office to another all day",
            "the clerk told us to come back tomorrow because the system was down",
            "there is no ramp for wheelchairs",
            "the queue tickets run out before nine in the morning"),
        6: ("my complaint never received an answer",
            "the feedback tablet did not work",
            "nobody publishes the waiting times",
            "the number of complaints appears in no report",
            "nobody asked me how the service was",
            "the complaints box at the entrance was locked"),
        7: ("draft laws are put up for consultation for only a few days",
            "our comments were ignored and nobody explained why",
            "free legal aid does not reach the villages",
            "the law was passed before the consultation closed",
            "the legal aid centre was closed when I went",
            "the legal aid form is ten pages long"),
        8: ("decisions are published months late",
            "hearings are postponed without notifying the parties",
            "you cannot find any decision with the search engine",
            "my property case has dragged on for eight years",
            "journalists were not allowed into the courtroom",
            "I cannot find the statistics of the appeal court"),
        9: ("we do not know how much the square renovation cost",
            "the budget is only published at the end of the year",
            "the public hearing was held during working hours without notice",
            "the money for the kindergarten was spent on a fountain",
            "the municipal council voted the budget without debate",
            "the investment table has no figure for the villages"),
        10: ("nobody knows how much concession holders pay",
             "the municipality does not say how much property tax it collects",
             "customs figures are only given as totals",
            "the building tax is collected but nobody knows where it goes",
            "the mining company pays less than a farmer",
            "the tax report came out six months late"),
    },
}
# An Albanian verb as a subjunctive (3rd person), an imperative (plural) and a participle.
VERBS_SQ = (("publikojë", "publikoni", "publikuar"), ("përditësojë", "përditësoni",
            "përditësuar"), ("përmirësojë", "përmirësoni", "përmirësuar"),
            ("shpjegojë", "shpjegoni", "shpjeguar"), ("monitorojë", "monitoroni",
            "monitoruar"), ("rishikojë", "rishikoni", "rishikuar"), ("hapë", "hapni",
            "hapur"), ("thjeshtojë", "thjeshtoni", "thjeshtuar"), ("kontrollojë",
            "kontrolloni", "kontrolluar"), ("financojë", "financoni", "financuar"))
VERBS_EN = ("publish", "update", "improve", "explain", "monitor", "review", "open up",
            "simplify", "audit", "fund", "reform", "digitise")
ACTORS = {"sq": ("qeveria", "bashkia", "ministria", "ADISA", "Kryeministria",
                 "Agjencia e Shoqërisë së Informacionit", "institucioni përgjegjës",
                 "Ministria e Financave", "Ministria e Drejtësisë", "prefektura",
                 "Kuvendi", "Kontrolli i Lartë i Shtetit"),
          "en": ("the government", "the municipality", "the ministry", "ADISA",
                 "the Prime Minister's Office", "the responsible agency", "Parliament",
                 "the Ministry of Finance", "the Ministry of Justice", "the prefecture",
                 "the Supreme Audit Institution", "each institution")}
ROLES = {"sq": ("mësuese", "student", "pensionist", "gazetare", "avokat", "infermiere",
                "pronar i një biznesi të vogël", "inxhinier", "nënë e dy fëmijëve",
                "punonjës i një organizate", "fermer", "programuese", "emigrant"),
         "en": ("a teacher", "a student", "a pensioner", "a journalist", "a lawyer", "a nurse",
                "a small business owner", "an engineer", "a mother of two", "a farmer",
                "an NGO worker", "a software developer", "an emigrant")}
TIMES = {"sq": ("muajin e kaluar", "vitin që shkoi", "dy javë më parë", "këtë pranverë",
                "prej disa vitesh", "në dhjetor", "dje", "gjatë verës", "para pak ditësh"),
         "en": ("last month", "last year", "two weeks ago", "this spring", "for years",
                "in December", "yesterday", "over the summer", "a few days ago")}
QUALIFIERS = {"sq": ("çdo muaj", "pa vonesë", "në format të hapur", "brenda këtij viti",
                     "me gjuhë të thjeshtë", "për çdo bashki", "në mënyrë të pavarur",
                     "para fundit të vitit", "në faqen zyrtare", "me afate të qarta",
                     "falas", "me pjesëmarrjen e qytetarëve"),
              "en": ("every month", "without delay", "in an open format", "within this year",
                     "in plain language", "for every municipality", "independently",
                     "before the end of the year", "on its website", "with clear deadlines",
                     "free of charge", "together with citizens")}
OPENERS = {"sq": ("Mendoj se", "Jam i bindur se", "Për mendimin tim,", "Më duket se",
                  "Besoj se", "Pa dyshim", "Sipas meje,", "Do të ishte mirë që", "Kam bindjen se",
                  "Nga përvoja ime,"),
           "en": ("I think", "In my view,", "I believe", "Clearly,", "To my mind,",
                  "It seems to me that", "Honestly,", "From my experience,", "Surely",
                  "I am convinced that")}
REASONS = {"sq": ("qytetarët kanë të drejtë të dinë", "pa këtë asgjë nuk ndryshon",
                  "kështu ulet korrupsioni", "ne paguajmë taksa dhe duam llogari",
                  "të rinjtë po largohen nga vendi", "besimi te shteti është shumë i ulët",
                  "bizneset e ndershme humbasin nga kjo", "gazetarët s'kanë nga t'i marrin faktet",
                  "fshatrat mbeten gjithmonë të fundit", "paratë publike janë paratë tona",
                  "ligji e kërkon prej vitesh", "Bashkimi Evropian e kërkon këtë",
                  "pa informacion nuk ka pjesëmarrje", "premtimet nuk mjaftojnë më",
                  "të moshuarit vuajnë më shumë nga burokracia",
                  "fqinjët tanë në rajon e kanë bërë tashmë"),
           "en": ("citizens have a right to know", "nothing will change without it",
                  "this is how corruption goes down", "we pay taxes and want accountability",
                  "young people are leaving the country", "trust in the state is very low",
                  "honest businesses lose out", "journalists have nowhere to find the facts",
                  "villages always come last", "public money is our money",
                  "the law has required it for years", "the European Union asks for it",
                  "without information there is no participation", "promises are not enough",
                  "elderly people suffer most from red tape",
                  "our neighbours in the region have already done it")}
BECAUSE = {"sq": ("Kjo është e rëndësishme sepse", "E them këtë sepse", "Po shkruaj sepse",
                  "Kjo ka rëndësi pasi", "Nuk mund të presim më, sepse", "Duhet nxituar, sepse",
                  "Mos harroni se", "Kam shqetësim sepse"),
           "en": ("This matters because", "I say this because", "I am writing because",
                  "It is important since", "We cannot wait any longer, as",
                  "Please hurry, because", "Do not forget that", "I am worried because")}
NOTICED = {"sq": ("pashë se", "vura re që", "mësova se", "lexova në lajme se", "kuptova që",
                  "më thanë se"),
           "en": ("I saw that", "I noticed that", "I learned that", "I read in the news that",
                  "I realised that", "I was told that")}
SUGGEST = {"sq": ("prandaj propozoj që", "ndaj kërkoj që", "prandaj sugjeroj që",
                  "kështu që mendoj se"),
           "en": ("so I suggest that", "so I ask that", "which is why I propose that",
                  "therefore I recommend that")}


ASIDES = {"sq": ("sërish", "përsëri", "për fat të keq", "si gjithmonë", "siç ndodh shpesh",
                 "në fakt", "madje", "ende", "tani", "sidomos", "gjithnjë", "pa dyshim",
                 "sipas të gjithëve", "për çudi", "natyrisht"),
          "en": ("again", "as usual", "unfortunately", "in fact", "even", "still", "now",
                 "especially", "always", "once more", "of course", "sadly", "apparently",
                 "strangely", "naturally")}


QUESTIONS = {
    "sq": ("Kur do të jenë {participle} {thing} në {city}?",
           "Deri kur duhet të presim që {actor} të {third} {thing}?",
           "A ka ndonjë plan që {actor} të {third} {thing} në {city}?",
           "Kush e ka përgjegjësinë që {thing} nuk janë {participle} ende?",
           "Sa kohë i duhet {actor} për të {participle} {thing}?",
           "Çfarë pengon që {thing} të jenë {participle} këtë vit?"),
    "en": ("When will {actor} {verb} {thing} in {city}?",
           "How long must we wait for {actor} to {verb} {thing}?",
           "Is there any plan to {verb} {thing} in {city}?",
           "Who is responsible for {thing} in {city}?",
           "What stops {actor} from trying to {verb} {thing} this year?",
           "Could {actor} at least {verb} {thing} before the elections?"),
}
ASKED = {"sq": ("?", "??", ", a mund ta shpjegoni?", ", pse?", "? Askush nuk përgjigjet.",
                ", edhe pse e premtoi?"),
         "en": ("?", "??", ", can you explain?", ", and why?", "? Nobody answers.",
                ", although it promised to?")}


def _in_own_words(rng: random.Random, clause: str, language: str) -> str:
    """A stock clause as one person tells it: a word or two of their own slipped in, so two
    people who met the same problem do not write the same string of words."""
    tokens = clause.split()
    for _ in range(rng.choice((0, 1, 1, 2))):
        tokens.insert(rng.randrange(1, len(tokens)), rng.choice(ASIDES[language]))
    return " ".join(tokens)


def _sentence_sq(rng: random.Random, commitment: int) -> str:
    thing = rng.choice(OBJECTS["sq"][commitment])
    problem = _in_own_words(rng, rng.choice(PROBLEMS["sq"][commitment]), "sq")
    third, plural, participle = rng.choice(VERBS_SQ)
    kind = rng.randrange(8)
    if kind == 0:
        text = (f"{rng.choice(OPENERS['sq'])} {rng.choice(ACTORS['sq'])} duhet të {third} "
                f"{thing} {rng.choice(QUALIFIERS['sq'])}")
    elif kind == 1:
        text = (f"Jam {rng.choice(ROLES['sq'])} nga {rng.choice(CITIES)} dhe "
                f"{rng.choice(TIMES['sq'])} {problem}")
    elif kind == 2:
        text = f"Ju lutem {plural} {thing} {rng.choice(QUALIFIERS['sq'])}"
    elif kind == 3:
        question = rng.choice(QUESTIONS["sq"]).format(
            participle=participle, thing=thing, third=third, city=rng.choice(CITIES),
            actor=rng.choice(ACTORS["sq"]))
        return _in_own_words(rng, question[0].upper() + question[1:], "sq")
    elif kind == 4:
        text = (f"Në {rng.choice(CITIES)} {problem}, ndaj {rng.choice(ACTORS['sq'])} "
                f"duhet të {third} {thing}")
    elif kind == 5:
        reason = _in_own_words(rng, rng.choice(REASONS["sq"]), "sq")
        text = f"{rng.choice(BECAUSE['sq'])} {reason}"
    elif kind == 6:
        question = (f"Pse {rng.choice(ACTORS['sq'])} nuk i ka {participle} ende {thing}"
                    f"{rng.choice(ASKED['sq'])}")
        return _in_own_words(rng, question, "sq")
    else:
        text = (f"{rng.choice(TIMES['sq']).capitalize()} {rng.choice(NOTICED['sq'])} "
                f"{problem}, {rng.choice(SUGGEST['sq'])} {thing} të kontrollohen "
                f"{rng.choice(QUALIFIERS['sq'])}")
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "!"))


def _sentence_en(rng: random.Random, commitment: int) -> str:
    thing = rng.choice(OBJECTS["en"][commitment])
    problem = _in_own_words(rng, rng.choice(PROBLEMS["en"][commitment]), "en")
    verb = rng.choice(VERBS_EN)
    kind = rng.randrange(8)
    if kind == 0:
        text = (f"{rng.choice(OPENERS['en'])} {rng.choice(ACTORS['en'])} should {verb} "
                f"{thing} {rng.choice(QUALIFIERS['en'])}")
    elif kind == 1:
        text = (f"I am {rng.choice(ROLES['en'])} from {rng.choice(CITIES)} and "
                f"{rng.choice(TIMES['en'])} {problem}")
    elif kind == 2:
        text = f"Please {verb} {thing} {rng.choice(QUALIFIERS['en'])}"
    elif kind == 3:
        question = rng.choice(QUESTIONS["en"]).format(
            verb=verb, thing=thing, city=rng.choice(CITIES), actor=rng.choice(ACTORS["en"]))
        return _in_own_words(rng, question[0].upper() + question[1:], "en")
    elif kind == 4:
        text = (f"In {rng.choice(CITIES)} {problem}, so {rng.choice(ACTORS['en'])} has to "
                f"{verb} {thing}")
    elif kind == 5:
        reason = _in_own_words(rng, rng.choice(REASONS["en"]), "en")
        text = f"{rng.choice(BECAUSE['en'])} {reason}"
    elif kind == 6:
        question = (f"Why has {rng.choice(ACTORS['en'])} still not managed to {verb} {thing}"
                    f"{rng.choice(ASKED['en'])}")
        return _in_own_words(rng, question, "en")
    else:
        text = (f"{rng.choice(TIMES['en']).capitalize()} {rng.choice(NOTICED['en'])} "
                f"{problem}, {rng.choice(SUGGEST['en'])} {thing} be checked "
                f"{rng.choice(QUALIFIERS['en'])}")
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "!"))


def sentence(rng: random.Random, language: str, commitment: int) -> str:
    """One sentence a citizen might write about ``commitment``."""
    if language == "sq":
        return _sentence_sq(rng, commitment)
    return _sentence_en(rng, commitment)


SHORT = ("Dakord me planin.", "Faleminderit!", "Mbështes propozimin.", "Ok", "Thanks!",
         "Jam dakord.", "I agree.", "Shumë mirë.", "Bravo, vazhdoni kështu!",
         "Nuk jam dakord.", "Support this.", "Po.")


def own_comment(rng: random.Random, commitment: int) -> str:
    """A comment of the sender's own: Albanian, English or both, 2-7 sentences."""
    language = rng.choices(("sq", "en", "mixed"), (60, 30, 10))[0]
    count = rng.randint(2, 7)
    if language == "mixed":
        parts = [sentence(rng, rng.choice(("sq", "en")), commitment) for _ in range(count)]
        language = "sq"
    else:
        parts = [sentence(rng, language, commitment) for _ in range(count)]
    # Now and then a second commitment comes up in the same comment.
    if rng.random() < 0.15:
        parts.append(sentence(rng, language, rng.randint(1, 10)))
    body = " ".join(parts) if rng.random() < 0.6 else "\n\n".join(parts)
    greeting = rng.choice(GREETINGS[language]) if rng.random() < 0.5 else ""
    sign_off = (rng.choice(SIGN_OFFS[language]).format(name=_name(rng), city=rng.choice(CITIES))
                if rng.random() < 0.5 else "")
    text = "\n\n".join(part for part in (greeting, body, sign_off) if part)
    if language == "sq" and rng.random() < 0.4:
        text = strip_diacritics(text)
    if rng.random() < 0.1:
        text = text.lower()
    return text


def generate(seed: int = 13, sizes: Sequence[int] | None = None, unrelated: int = 400,
             short: int = 40, letters: Sequence[Letter] = LETTERS) -> list[Item]:
    """Copies of ``letters`` (``sizes[i]`` copies of the i-th; by default 3-40 each),
    ``unrelated`` comments of their own and ``short`` very short ones, shuffled."""
    rng = random.Random(seed)
    if sizes is None:
        sizes = [rng.choice((3, 4, 6, 10, 15, 25, 40)) for _ in letters]
    items = [Item(copy_of(rng, letter), letter.key)
             for letter, size in zip(letters, sizes, strict=True) for _ in range(size)]
    items += [Item(own_comment(rng, rng.randint(1, 10)), None) for _ in range(unrelated)]
    items += [Item(rng.choice(SHORT), None) for _ in range(short)]
    rng.shuffle(items)
    return items


@dataclass(frozen=True, slots=True)
class PairScores:
    precision: float
    recall: float
    predicted_pairs: int
    true_pairs: int


def _pairs_within(labels: Sequence[object | None]) -> int:
    return sum(n * (n - 1) // 2 for n in Counter(x for x in labels if x is not None).values())


def pair_scores(predicted: Sequence[int | None], truth: Sequence[str | None]) -> PairScores:
    """Pairwise precision and recall: pairs of items put in one group that are copies of
    one letter, over all pairs put in one group (precision) and over all pairs of copies
    of one letter (recall). An item alone (``None``) pairs with nothing."""
    both = [(p, t) if p is not None and t is not None else None
            for p, t in zip(predicted, truth, strict=True)]
    correct = _pairs_within(both)
    predicted_pairs, true_pairs = _pairs_within(predicted), _pairs_within(truth)
    return PairScores(correct / predicted_pairs if predicted_pairs else 1.0,
                      correct / true_pairs if true_pairs else 1.0,
                      predicted_pairs, true_pairs)
