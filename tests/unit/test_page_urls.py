"""The page address agents see never carries the customer's secrets: no fragment, userinfo or token."""

from __future__ import annotations

import pytest
from helpdesk.domain.models import ContextPackage
from helpdesk.domain.page_urls import is_secret_parameter, scrub_page_url
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://shop.example.com/orders/ORD-1001#token=eyJhbGciOi", "https://shop.example.com/orders/ORD-1001"),
        ("https://shop.example.com/o?id=7&token=abc", "https://shop.example.com/o?id=7"),
        (
            "https://shop.example.com/login/callback?code=4/0Ad&state=xyz",
            "https://shop.example.com/login/callback?state=xyz",
        ),
        ("https://shop.example.com/?ACCESS_TOKEN=1&Page=2", "https://shop.example.com/?Page=2"),
        ("https://shop.example.com/?accessToken=1&apiKey=2&api-key=3&q=teapot", "https://shop.example.com/?q=teapot"),
        (
            "https://files.example.com/a.pdf?X-Amz-Credential=c&X-Amz-Signature=s&X-Amz-Security-Token=t&X-Amz-Expires=300",
            "https://files.example.com/a.pdf?X-Amz-Expires=300",
        ),
        ("https://shop.example.com/?sig=1&sv=2020&se=2030", "https://shop.example.com/?sv=2020&se=2030"),
        ("https://shop.example.com/reset?password=hunter2&user=ada", "https://shop.example.com/reset?user=ada"),
        ("https://shop.example.com/?JSESSIONID=1&PHPSESSID=2&session_id=3&sid=4", "https://shop.example.com/"),
        ("https://shop.example.com/?client_secret=1&auth=2&oauth=3&Authorization=4", "https://shop.example.com/"),
        ("https://shop.example.com/?keys=1&tokens=2&otp=3&SAMLResponse=4", "https://shop.example.com/"),
        ("https://ada:hunter2@shop.example.com:8443/account", "https://shop.example.com:8443/account"),
        (
            "https://shop.example.com/search?keyword=teapot&author=ada&sort=price",
            "https://shop.example.com/search?keyword=teapot&author=ada&sort=price",
        ),
    ],
)
def test_a_page_address_is_kept_without_fragment_userinfo_or_secret_parameters(given: str, kept: str) -> None:
    assert scrub_page_url(given) == kept


@pytest.mark.parametrize(
    "given", ["Checkout screen#token=abc", "checkout?token=abc", "https://[::1/x#token=abc", "app:orders#code=1"]
)
def test_something_that_is_not_a_web_address_loses_its_query_and_fragment(given: str) -> None:
    scrubbed = scrub_page_url(given)

    assert "token" not in scrubbed
    assert "code" not in scrubbed


@pytest.mark.parametrize(
    "name", ["token", "TOKEN", "id_token", "refresh-token", "x_csrf_token", "apikey", "signature", "Sig", "pwd"]
)
def test_names_that_look_like_secrets_are_recognised_whatever_their_case(name: str) -> None:
    assert is_secret_parameter(name)


@pytest.mark.parametrize("name", ["page", "q", "utm_source", "keyword", "author", "order_id", "lang", "state"])
def test_ordinary_parameter_names_are_kept(name: str) -> None:
    assert not is_secret_parameter(name)


def test_the_context_package_stores_page_and_referrer_without_secrets() -> None:
    # Given a messenger's context whose addresses carry a sign-in token and an OAuth code
    context = ContextPackage.model_validate(
        {
            "page_url": "https://shop.example.com/orders/ORD-1001?utm_source=mail&access_token=abc#token=eyJ",
            "referrer": "https://id.example.com/callback?code=secret-code&lang=en",
        }
    )

    # Then what is kept (and shown to agents) holds neither
    assert context.page_url == "https://shop.example.com/orders/ORD-1001?utm_source=mail"
    assert context.referrer == "https://id.example.com/callback?lang=en"


def test_what_is_kept_is_kept_as_written_so_the_address_never_grows() -> None:
    given = "https://shop.example.com/s?q=t%C3%A9%20pot&sort=a+b&flag&token=x"

    assert scrub_page_url(given) == "https://shop.example.com/s?q=t%C3%A9%20pot&sort=a+b&flag"
    assert len(scrub_page_url("https://shop.example.com/?q=" + "é" * 900)) <= len(
        "https://shop.example.com/?q=" + "é" * 900
    )


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda host, path, query, fragment: f"https://{host}/{path}?{query}#{fragment}",
            st.text(max_size=30),
            st.text(max_size=30),
            st.text(max_size=60),
            st.text(max_size=30),
        ),
    )
)
def test_any_address_is_scrubbed_without_error_and_never_grows_or_keeps_a_fragment(given: str) -> None:
    scrubbed = scrub_page_url(given)

    assert "#" not in scrubbed
    assert len(scrubbed) <= len(given)
