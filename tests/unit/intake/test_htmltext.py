"""HTML mail as the plain text a moderator reads."""

from __future__ import annotations

from intake.htmltext import html_to_text
from intake.parse import normalise_text


def readable(markup: str) -> str:
    return normalise_text(html_to_text(markup))


def test_script_and_style_contents_are_dropped() -> None:
    text = readable(
        "<html><head><title>Titulli</title><style>p { color: red }</style>"
        "<script>var x = 1;</script></head><body><p>Teksti i qytetarit.</p>"
        "<script type='text/javascript'>alert('x')</script><noscript>aktivizo JS</noscript>"
        "</body></html>"
    )
    assert text == "Teksti i qytetarit."


def test_paragraphs_and_line_breaks() -> None:
    text = readable("<p>Një</p><p>Dy<br>Tre<br/>Katër</p>")
    assert text == "Një\n\nDy\nTre\nKatër"


def test_list_items_are_bulleted_lines() -> None:
    lines = [line for line in readable("<ul><li>Parë</li><li>Dytë</li></ul>").split("\n") if line]
    assert lines == ["- Parë", "- Dytë"]


def test_hidden_link_target_is_kept() -> None:
    text = readable('<p>Shih <a href="https://phish.example/login">faqen zyrtare</a>.</p>')
    assert text == "Shih faqen zyrtare (https://phish.example/login)."


def test_link_whose_text_is_the_target_is_not_repeated() -> None:
    text = readable('<a href="https://opendata.gov.al">https://opendata.gov.al</a>')
    assert text == "https://opendata.gov.al"


def test_links_inside_dropped_elements_leave_no_trace() -> None:
    text = readable('<p>Komenti im.</p><noscript><a href="https://tracker.example/p">t</a>'
                    '</noscript><template><a href="https://hidden.example/">h</a></template>')
    assert text == "Komenti im."


def test_javascript_link_target_is_not_shown() -> None:
    text = readable('<a href="javascript:alert(1)">kliko</a>')
    assert text == "kliko"


def test_entities_are_decoded_and_no_tags_remain() -> None:
    text = readable("<div>Sh&euml;rbimet &amp; <b>t&euml; dh&#235;nat</b></div>")
    assert text == "Shërbimet & të dhënat"


def test_whitespace_inside_a_paragraph_is_collapsed() -> None:
    assert readable("<p>  shumë\n   hapësira\t këtu </p>") == "shumë hapësira këtu"
