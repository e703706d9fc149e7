"""Bearer-token authentication and roles for the counselor and staff APIs.

401 when the token is missing or unknown, 403 when the role does not fit;
admins may do everything the other roles may.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from helpline.users import Role, User, authenticate

bearer = HTTPBearer(auto_error=False, description="helpline users add NAME --role ROLE 生成的令牌")


def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "需要登录令牌。", {"WWW-Authenticate": "Bearer"})
    with request.app.state.sessions() as session:
        user = authenticate(session, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "令牌无效或已停用。", {"WWW-Authenticate": "Bearer"}
        )
    return user


def may(user: User, roles: tuple[Role, ...]) -> bool:
    """Whether ``user`` has one of ``roles``; admins may do everything (the API and the console alike)."""
    return user.role in {role.value for role in roles} | {Role.ADMIN.value}


def require_roles(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets through users with one of ``roles`` (or admin)."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not may(user, roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "您的账号没有这项权限。")
        return user

    return check
