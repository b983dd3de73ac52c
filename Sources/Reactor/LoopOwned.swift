/// A loop-bound object carried by a Sendable value (an async handle): only code running on the object's loop can
/// reach it, and the last reference, wherever it is dropped, lets go of the object on its loop.
/// @unchecked Sendable: `object` is read only through `get(on:)`, which asserts the caller runs on the owning loop;
/// the deinit hands it to that loop instead of releasing it on the dropping thread.
package final class LoopOwned<Object: AnyObject>: @unchecked Sendable {
    private let object: Object
    package let handle: EventLoopHandle

    package init(_ object: Object, loop: EventLoop) {
        loop.assertInLoop()
        self.object = object
        handle = loop.handle
    }

    package func get(on loop: EventLoop) -> Object {
        loop.assertInLoop()
        precondition(loop.handle === handle, "a loop-bound object reached from another loop")
        return object
    }

    deinit {
        let last = Unchecked(object)
        // When the loop has closed there is no thread left to race with: the object goes here.
        handle.execute { _ in _ = last }
    }

    /// @unchecked Sendable: carries the object to its own loop, where the task that holds it runs and ends.
    private struct Unchecked: @unchecked Sendable {
        let object: Object
        init(_ object: Object) { self.object = object }
    }
}
