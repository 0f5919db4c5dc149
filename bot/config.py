"""Settings read from the environment or `.env` (names in shared INTERFACES.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every deployment setting; secrets are `SecretStr` so they never reach a log line."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///jixing.db"
    timezone: str = "Asia/Shanghai"

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None

    # WeChat Official Account (公众号)
    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_encoding_aes_key: SecretStr | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"
    # A template message (模板消息) for pushes outside the 48 h customer-service window; its
    # body must hold {{content.DATA}}. Unset: such pushes are dropped (and logged).
    wechat_template_id: str | None = None
    # Seconds /wechat and /wecom wait for a reply before answering `success` and sending the
    # reply as a message instead (WeChat gives up after 5 s and retries).
    wechat_reply_deadline: float = 4.0

    # WeCom (企业微信)
    wecom_corp_id: str | None = None
    wecom_agent_id: str | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_encoding_aes_key: SecretStr | None = None
    wecom_api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"

    # Files and content
    draws_dir: Path = Path("draws")
    quiz_bank_path: Path | None = Field(
        default=None, description="A folder of course files; the bundled bank when unset."
    )
    points_rules_path: Path | None = Field(
        default=None, description="A TOML file overriding the bundled points rules."
    )

    # Rewards
    data_pack_limit: int = 20_000
    # Key for the data-pack phone numbers at rest and for signing chat buttons; set it in production.
    secret_key: SecretStr = SecretStr("jixing-dev-secret-change-me")
