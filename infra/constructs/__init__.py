"""One CDK construct per SyncHub capability; infra/stack.py composes them."""
