// value.rs: the scalar autograd engine of micrograd / microgpt.py. Every
// number is a node, Rc<RefCell<Value>>, that remembers its children and the
// local gradient with respect to each; backward orders the graph by a
// depth-first search from the loss and propagates. docs/spec.md, "How the
// reference evaluates each operation", is the table the operations follow.

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

pub type ValueRef = Rc<RefCell<Value>>;

pub struct Value {
    pub data: f64,
    pub grad: f64,
    /// Each child with the local gradient d(self)/d(child), in the
    /// reference's order: the sort visits children in this order and
    /// backward adds into them in this order, which fixes the last bits.
    children: Children,
}

/// A node's children: inline for the one or two of a scalar op, so that a
/// node is one allocation (as the C engine's inline children), and in a
/// Vec for the 2 * n_in of a fused linear output.
pub enum Children {
    None,
    One([(ValueRef, f64); 1]),
    Two([(ValueRef, f64); 2]),
    Many(Vec<(ValueRef, f64)>),
}

impl Children {
    fn as_slice(&self) -> &[(ValueRef, f64)] {
        match self {
            Children::None => &[],
            Children::One(children) => children,
            Children::Two(children) => children,
            Children::Many(children) => children,
        }
    }
}

/// libm's pow, as every `**` of the reference (spec: "every ** is libm's
/// pow"). Both arguments go through a volatile read so that the optimizer
/// sees no constant: it would turn pow(g, 2.0) into g * g, pow(v, 0.5) into
/// sqrt (each differs from glibc's pow in the last bit about once in a
/// thousand calls) and pow(0.5, y) into exp2(-y).
pub fn pow(x: f64, exponent: f64) -> f64 {
    let (hidden_x, hidden_exponent) = unsafe { (std::ptr::read_volatile(&x), std::ptr::read_volatile(&exponent)) };
    hidden_x.powf(hidden_exponent)
}

pub fn node(data: f64, children: Children) -> ValueRef {
    Rc::new(RefCell::new(Value { data, grad: 0.0, children }))
}

/// A parameter, or a plain number that meets a node: the reference makes
/// constants leaves of the graph on the spot (spec: "Constants are nodes").
pub fn leaf(data: f64) -> ValueRef {
    node(data, Children::None)
}

pub fn data(v: &ValueRef) -> f64 {
    v.borrow().data
}

pub fn add(a: &ValueRef, b: &ValueRef) -> ValueRef {
    node(data(a) + data(b), Children::Two([(a.clone(), 1.0), (b.clone(), 1.0)]))
}

pub fn mul(a: &ValueRef, b: &ValueRef) -> ValueRef {
    let (a_data, b_data) = (data(a), data(b));
    node(a_data * b_data, Children::Two([(a.clone(), b_data), (b.clone(), a_data)]))
}

/// a ** exponent for a constant exponent: local gradient
/// exponent * pow(a, exponent - 1), both powers libm's.
pub fn power(a: &ValueRef, exponent: f64) -> ValueRef {
    let a_data = data(a);
    node(pow(a_data, exponent), Children::One([(a.clone(), exponent * pow(a_data, exponent - 1.0))]))
}

pub fn log(a: &ValueRef) -> ValueRef {
    let a_data = data(a);
    node(a_data.ln(), Children::One([(a.clone(), 1.0 / a_data)]))
}

pub fn exp(a: &ValueRef) -> ValueRef {
    let e = data(a).exp();
    node(e, Children::One([(a.clone(), e)]))
}

/// max(0, a), whose 0 is +0.0 whatever a's sign; local gradient 1 where a > 0.
pub fn relu(a: &ValueRef) -> ValueRef {
    let a_data = data(a);
    let positive = a_data > 0.0;
    let local_grad = if positive { 1.0 } else { 0.0 };
    node(if positive { a_data } else { 0.0 }, Children::One([(a.clone(), local_grad)]))
}

/// Python's sum(terms): 0 + t0 + t1 + ..., folded left to right. `0 + t0`
/// is t0.__radd__(0), an add node whose second child is a constant 0 (spec).
pub fn sum<I: IntoIterator<Item = ValueRef>>(terms: I) -> ValueRef {
    let mut terms = terms.into_iter();
    let first = terms.next().expect("sum of no terms");
    let mut total = add(&first, &leaf(0.0));
    for term in terms {
        total = add(&total, &term);
    }
    total
}

/// Hashes a node's address for the visited set: addresses are distinct
/// already, so one multiply spreads them over the table (the default
/// SipHash would cost more than the rest of the sort).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write_usize(&mut self, address: usize) {
        self.0 = address as u64;
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ byte as u64;
        }
    }

    fn finish(&self) -> u64 {
        let mixed = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        mixed ^ (mixed >> 32)
    }
}

type VisitedSet = HashSet<usize, BuildHasherDefault<AddressHasher>>;

fn address(v: &ValueRef) -> usize {
    Rc::as_ptr(v) as usize
}

/// The sort's visited set and order, kept from step to step so that their
/// memory is allocated once, not regrown (and freed) every step.
#[derive(Default)]
pub struct SortBuffers {
    visited: VisitedSet,
    order: Vec<ValueRef>,
}

/// The reference's build_topo: a recursive depth-first search that visits
/// children in order and appends a node after its children (post-order).
pub fn topological_order_recursive(root: &ValueRef, buffers: &mut SortBuffers) {
    fn visit(v: &ValueRef, visited: &mut VisitedSet, order: &mut Vec<ValueRef>) {
        if visited.insert(address(v)) {
            for (child, _) in v.borrow().children.as_slice() {
                visit(child, visited, order);
            }
            order.push(v.clone());
        }
    }
    visit(root, &mut buffers.visited, &mut buffers.order);
}

/// The same post-order with an explicit stack of (node, next child to
/// look at): a node is appended once all its children are, exactly where
/// the recursion would append it.
pub fn topological_order_iterative(root: &ValueRef, buffers: &mut SortBuffers) {
    let SortBuffers { visited, order } = buffers;
    visited.insert(address(root));
    let mut stack = vec![(root.clone(), 0)];
    while let Some(top) = stack.last_mut() {
        let next_child = top.0.borrow().children.as_slice().get(top.1).map(|(child, _)| child.clone());
        match next_child {
            Some(child) => {
                top.1 += 1;
                if visited.insert(address(&child)) {
                    stack.push((child, 0));
                }
            }
            None => {
                let (finished, _) = stack.pop().expect("the stack has a top");
                order.push(finished);
            }
        }
    }
}

pub struct GraphSize {
    pub nodes: usize,
    pub edges: usize,
}

pub type TopologicalOrder = fn(&ValueRef, &mut SortBuffers);

/// Orders the graph of `loss`, walks the order backwards adding
/// local * grad into each child in child order (spec: "the order of
/// gradient accumulation"), then frees the graph. Returns its size: the
/// distinct nodes reachable from the loss and their child links.
pub fn backward(loss: ValueRef, topological_order: TopologicalOrder, buffers: &mut SortBuffers) -> GraphSize {
    buffers.visited.clear();
    topological_order(&loss, buffers);
    let order = &mut buffers.order;
    loss.borrow_mut().grad = 1.0;
    for v in order.iter().rev() {
        let v = v.borrow();
        for (child, local_grad) in v.children.as_slice() {
            child.borrow_mut().grad += local_grad * v.grad;
        }
    }
    let size =
        GraphSize { nodes: order.len(), edges: order.iter().map(|v| v.borrow().children.as_slice().len()).sum() };
    // Free the root first: every node then goes when its entry is popped,
    // its parents being gone already, so no drop recurses down the graph.
    drop(loss);
    while order.pop().is_some() {}
    size
}
