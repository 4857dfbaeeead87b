"""Matching keys: examples a user would recognise, and properties over generated input (hypothesis)."""

from __future__ import annotations

import idna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from halosync.engine.normalize import (
    company_name_key,
    domain_key,
    email_key,
    is_role_address,
    linkedin_key,
    person_name_key,
)

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=2, max_size=12)
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10)
HOST = st.builds(lambda a, b, tld: f"{a}{b}.{tld}", WORD, LOCAL, st.sampled_from(["com", "io", "co.uk", "net"]))


@pytest.mark.parametrize(("given_", "expected"), [
    (" John.Smith@Example.COM ", "john.smith@example.com"),
    ("john.smith+crm@example.com", "john.smith@example.com"),
    ("J.O.H.N+x@GoogleMail.com", "john@gmail.com"),
    ("john@gmail.com.", "john@gmail.com"),
    ("ＪＯＨＮ@example.com", "john@example.com"),  # NFKC: full-width letters
    ("not-an-email", None), ("", None), (None, None), ("@example.com", None), ("a@b", None),
])
def test_email_key_examples(given_: str | None, expected: str | None) -> None:
    assert email_key(given_) == expected


def test_plus_tags_kept_when_configured() -> None:
    assert email_key("a+b@example.com", strip_plus_tags=False) == "a+b@example.com"
    assert email_key("a.b+c@gmail.com", strip_plus_tags=False) == "ab@gmail.com"  # gmail always


@given(LOCAL, HOST, st.sampled_from(["", "+news", "+apollo"]))
def test_email_key_ignores_case_whitespace_and_tags(local: str, host: str, tag: str) -> None:
    base = email_key(f"{local}@{host}")
    assert base is not None
    assert email_key(f"  {local.upper()}{tag}@{host.upper()} ") == base
    assert email_key(base) == base  # idempotent


@given(LOCAL, st.lists(st.integers(min_value=1, max_value=11), max_size=3), st.booleans())
def test_gmail_dots_and_googlemail_are_one_mailbox(local: str, dots: list[int], googlemail: bool) -> None:
    dotted = local
    for at in sorted({d for d in dots if d < len(local)}, reverse=True):
        dotted = dotted[:at] + "." + dotted[at:]
    domain = "googlemail.com" if googlemail else "gmail.com"
    assert email_key(f"{dotted}+x@{domain}") == email_key(f"{local}@gmail.com") == f"{local}@gmail.com"


def test_role_addresses() -> None:
    assert is_role_address("info@acme.com") and is_role_address("Sales+x@acme.com")
    assert not is_role_address("jane@acme.com") and not is_role_address(None)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=3, max_size=20),
       st.sampled_from(["http://", "https://", ""]), st.sampled_from(["", "www.", "uk.", "de.", "m."]),
       st.sampled_from(["", "/"]), st.sampled_from(["", "?trk=public_profile", "?originalSubdomain=uk"]),
       st.booleans())
def test_linkedin_key_ignores_url_variants(slug: str, scheme: str, host: str, slash: str, query: str,
                                          upper: bool) -> None:
    url = f"{scheme}{host}linkedin.com/in/{slug.upper() if upper else slug}{slash}{query}"
    assert linkedin_key(url) == f"in/{slug}"


def test_linkedin_key_rejects_other_urls() -> None:
    assert linkedin_key("https://example.com/in/jane") is None
    assert linkedin_key("https://www.linkedin.com/feed/") is None
    assert linkedin_key("https://www.linkedin.com/company/acme/about") == "company/acme"


@given(HOST, st.sampled_from(["", "http://", "https://"]), st.sampled_from(["", "www."]),
       st.sampled_from(["", "/", "/about?x=1"]))
def test_domain_key_strips_scheme_www_and_path(host: str, scheme: str, www: str, path: str) -> None:
    assert domain_key(f"{scheme}{www}{host.upper()}{path}") == host


def test_domain_key_from_an_email_and_nonsense() -> None:
    assert domain_key("jane@Acme.com") == "acme.com"
    assert domain_key("localhost") is None and domain_key("") is None


@given(st.lists(WORD, min_size=1, max_size=3), st.sampled_from(["", " Inc", ", Inc.", " Incorporated", " LLC",
                                                                  " Ltd.", " GmbH", " Limited", " Corp."]))
def test_company_name_key_drops_legal_suffixes(words: list[str], suffix: str) -> None:
    name = " ".join(words)
    if company_name_key(name) != name:  # a name whose own last word is a legal form is out of scope
        return
    assert company_name_key(f"{name.upper()}{suffix}") == name


def test_person_name_key() -> None:
    assert person_name_key("José", "Müller") == person_name_key("jose", "MULLER") == "jose muller"
    assert person_name_key("Sean", "O'Brien") == "sean obrien"
    assert person_name_key(None, None, "Jane  Doe") == "jane doe"
    assert person_name_key(None, None, None) is None


# Internationalised domain names: the Unicode and the xn-- (punycode) spelling of one domain are one key.
IDN_SPELLINGS = [("bücher.de", "xn--bcher-kva.de"), ("müller-gmbh.at", "xn--mller-gmbh-9db.at"),
                 ("例え.jp", "xn--r8jz45g.jp"), ("straße.de", "xn--strae-oqa.de")]


@pytest.mark.parametrize(("unicode_", "ascii_"), IDN_SPELLINGS)
def test_idn_websites_domains_and_emails_have_one_key(unicode_: str, ascii_: str) -> None:
    key = domain_key(unicode_)
    assert key is not None
    for spelling in (unicode_, ascii_, ascii_.upper(), unicode_.upper()):
        assert domain_key(spelling) == key, spelling
        assert domain_key(f"https://www.{spelling}/impressum") == key, spelling
        assert domain_key(f"jane@{spelling}") == key, spelling
        assert email_key(f"Jane.Doe+x@{spelling}") == f"jane.doe@{key}", spelling
    assert domain_key(key) == key and email_key(f"jane@{key}") == f"jane@{key}"  # idempotent


def test_hosts_idna_refuses_keep_their_plain_key() -> None:
    assert domain_key("my_host.example.com") == "my_host.example.com"  # underscore: not a valid IDNA label
    assert domain_key("xn--zz.de") == "xn--zz.de"  # not valid punycode
    assert email_key("jo@Intra_Net.Example.com") == "jo@intra_net.example.com"


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüéñçå", min_size=1, max_size=20),
       st.sampled_from(["de", "com", "co.uk"]))
def test_unicode_and_punycode_spellings_agree(label: str, tld: str) -> None:
    try:
        ascii_ = f"{idna.encode(label, uts46=True).decode()}.{tld}"
    except idna.IDNAError:
        return  # not a label IDNA can encode, so there is no second spelling to compare
    key = domain_key(f"{label}.{tld}")
    assert key is not None
    assert domain_key(ascii_) == key
    assert email_key(f"a@{ascii_}") == email_key(f"a@{label}.{tld}") == f"a@{key}"
