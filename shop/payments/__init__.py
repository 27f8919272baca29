"""Payments: Stripe Checkout (card) and bank transfer confirmed by staff."""
