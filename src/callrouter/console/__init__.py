"""The supervisors' console in the browser: live queues, figures, decisions and alerts,
pushed over Server-Sent Events (see README, "The supervisor console")."""
