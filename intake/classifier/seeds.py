"""Off-topic mail the catalogue cannot describe: the model's first idea of "not about the plan".

The catalogue says what each commitment is about; nothing in it says what a message
that is about none of them looks like. These few generic examples (marketing, scams,
private matters, questions meant for another office, mail sent to the wrong address),
in Albanian and English, give the off-topic column its first negatives' opposite.
Moderators' rejections as spam or off-topic are added to them by ``train``.
"""

from __future__ import annotations

OFF_TOPIC_SEEDS: tuple[str, ...] = (
    # marketing and offers
    "Special offer this week only: buy two get one free, order now from our online shop",
    "We design websites and mobile apps at the best price, contact us for a free quote",
    "Our agency offers cheap flights and holiday packages, book today and save 40 percent",
    "Ofertë e veçantë vetëm këtë javë: blini dy dhe merrni një falas, porositni tani",
    "Kompania jonë ofron shërbime pastrimi për zyra dhe shtëpi me çmime shumë të mira",
    "Kurse profesionale për marketing dixhital, regjistrohuni sot me zbritje",
    "Shitet makinë në gjendje shumë të mirë, kilometra të pakta, çmimi i diskutueshëm",
    "Jepet me qira apartament i mobiluar pranë qendrës, për më shumë informacion telefononi",
    "Subscribe to our newsletter for the latest fashion trends and discount codes",
    "We are looking for distributors for our products in your country, see the price list",
    # scams and phishing
    "Congratulations, you have won a lottery prize, send your bank details to claim it",
    "Your mailbox is full, click here and enter your password to keep receiving email",
    "I am a bank manager and I need your help to move a large sum of money abroad",
    "Urime, keni fituar një telefon të ri, paguani vetëm transportin për ta marrë",
    "Llogaria juaj bankare është bllokuar, klikoni lidhjen dhe vendosni të dhënat e kartës",
    "Fitoni para nga shtëpia pa asnjë eksperiencë, investim i garantuar në kriptomonedha",
    "Make money fast with our trading robot, guaranteed profit every day",
    # private matters and personal messages
    "Hi, are you coming to the birthday party on Saturday? Bring something to drink",
    "Happy birthday, I wish you all the best and many happy returns",
    "Përshëndetje mami, arrita mirë, do të të marr në telefon në mbrëmje",
    "Gëzuar festat dhe urime për familjen tuaj, shëndet dhe lumturi",
    "I am looking for a job as a driver, please find my CV attached",
    "Kërkoj punë si recepsioniste, kam eksperiencë dhe flas anglisht, bashkëngjis CV",
    "My cat went missing yesterday near the park, please call me if you see her",
    "Sorry, this message was sent to the wrong address, please delete it",
    "Më falni, e dërgova gabim këtë mesazh, ju lutem injorojeni",
    "Thank you for the dinner last night, it was lovely to see you again",
    "test test",
    "Faleminderit, u kuptuam, shihemi nesër në mëngjes",
    # questions and complaints for another office
    "When will my pension be paid this month, I have not received anything yet",
    "Kur do të më paguhet pensioni, kam dy muaj që pres dhe askush nuk përgjigjet",
    "How can I get a visa to study in Italy, which documents do I need",
    "Si mund të regjistrohem në universitet, cilat janë afatet e pranimit",
    "The garbage has not been collected on our street for a week, please send a truck",
    "Fqinji im ka zënë oborrin me makinën e tij dhe nuk na lë të dalim, çfarë të bëj",
    "Our heating does not work and the landlord does not answer, who can help",
    "Dritat e rrugës në lagjen tonë nuk ndizen prej një muaji, kujt t'i drejtohemi",
    "I need an appointment with a cardiologist, how long is the waiting list",
    "Kam humbur portofolin në autobus, a e ka gjetur dikush",
    "What time does the football match start tonight and on which channel",
    "Recipe for a traditional cake with walnuts and honey, easy and quick",
    "Moti nesër do të jetë me diell, temperatura deri në tridhjetë gradë",
)
