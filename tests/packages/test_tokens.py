import hashlib
from datetime import timedelta

from django.utils import timezone

from packages.curation.tokens import (
    create_token,
    find_active_token,
    revoke_token,
    token_scope_error,
)
from packages.models import ApiToken
from tests.factories import create_project, create_user


def test_token_is_stored_hashed_and_found_by_its_plaintext(db):
    user = create_user()
    token, plaintext = create_token(user, description="ci")
    stored = ApiToken.objects.get(pk=token.pk)
    secret = plaintext.split("_", 2)[2]
    assert secret not in stored.secret_hash and plaintext not in str(stored.__dict__)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert find_active_token(plaintext) == stored


def test_wrong_secret_is_refused(db):
    _, plaintext = create_token(create_user())
    assert find_active_token(plaintext[:-2] + "zz") is None
    assert find_active_token("not-a-token") is None


def test_revoked_token_fails(db):
    token, plaintext = create_token(create_user())
    revoke_token(token)
    assert find_active_token(plaintext) is None


def test_expired_token_fails(db):
    token, plaintext = create_token(create_user(), expires_in_days=1)
    assert find_active_token(plaintext) is not None
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert find_active_token(plaintext) is None


def test_token_of_inactive_user_fails(db):
    user = create_user()
    _, plaintext = create_token(user)
    user.is_active = False
    user.save()
    assert find_active_token(plaintext) is None


def test_scopes(db):
    user = create_user()
    mine, other = create_project("mine", owner=user), create_project("other", owner=user)
    scoped, _ = create_token(user, projects=[mine])
    read_only, _ = create_token(user, read_only=True)
    assert token_scope_error(scoped, mine, write=True) is None
    assert "scoped to mine" in token_scope_error(scoped, other, write=True)
    assert "scoped" in token_scope_error(scoped, None, write=True)
    assert "read-only" in token_scope_error(read_only, mine, write=True)
    assert token_scope_error(read_only, mine, write=False) is None
