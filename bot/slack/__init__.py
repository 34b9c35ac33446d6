"""The Slack adapter: Bolt listeners (`app`), reply routing (`followup`) and runners (`server`)."""
