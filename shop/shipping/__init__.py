"""Shipping: couriers, their rates by origin region and destination province, Indonesia's provinces, and the
price of a parcel. Below orders (an order names its courier); the couriers screen lives with checkout."""
