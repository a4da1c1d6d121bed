"""Speed-to-lead: business hours per team, SLA policies, and due times counted in business time."""
